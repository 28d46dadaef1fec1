"""Offline analysis of ppo HDF5 logs: summary tables, learning curves, PPO diagnostics, action
statistics, return histograms and episode animations. Entry point: analysis/ppo-analyze or
`python3 -m analysis` (see analysis/README.md)."""

__version__ = "0.1.0"
