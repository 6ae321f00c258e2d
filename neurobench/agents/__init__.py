"""Agents: the protocol models implement, and the reference agents."""

from neurobench.agents.base import Agent
from neurobench.agents.reference import BoundedAccumulator, GuessAgent, IdealObserver, OracleAgent, RandomAgent

__all__ = ["Agent", "BoundedAccumulator", "GuessAgent", "IdealObserver", "OracleAgent", "RandomAgent"]
