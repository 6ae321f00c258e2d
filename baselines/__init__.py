"""Baseline agents with heavy dependencies (``pip install 'neurobench[rllib]'``).

Shipped as ``neurobench.baselines``; importing ``neurobench`` never imports them.
"""
