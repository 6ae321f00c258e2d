"""NeuroBench's Hydra configs (shipped as the package ``neurobench.conf``)."""
