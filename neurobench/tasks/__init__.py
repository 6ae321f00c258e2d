"""Task families, one module each. Importing a module registers nothing: the catalog
(``neurobench.catalog``) registers what each declares in its ``SPECS``."""
