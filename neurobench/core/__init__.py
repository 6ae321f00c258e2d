"""The trial engine: timing, trials, response rules, tasks, envs and the registry."""
