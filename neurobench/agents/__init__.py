"""Agents: the protocol models implement, and the reference agents."""

from neurobench.agents.base import Agent
from neurobench.agents.reference import GuessAgent, IdealObserver, OracleAgent, RandomAgent

__all__ = ["Agent", "GuessAgent", "IdealObserver", "OracleAgent", "RandomAgent"]
