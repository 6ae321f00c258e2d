"""RLlib multi-agent PPO on the two-player games (PettingZoo parallel envs).

Both players learn at once (self-play) with per-player policies, or one policy shared
by both (``shared_policy``). The harness then evaluates ``player_0``'s policy (the shared
one) against the game's reference opponent, like every agent on the multiagent suite.
"""

from __future__ import annotations

from typing import Any, ClassVar

from neurobench.baselines.rllib_ppo import PPOAgent, _safe

from neurobench.core.errors import InvalidParameterError
from neurobench.core.task import Task

PLAYERS = ("player_0", "player_1")


class MultiAgentPPO(PPOAgent):
    """PPO (LSTM or MLP) for every player of a game; see the module docstring."""

    name: ClassVar[str] = "ppo_multiagent"

    def __init__(self, shared_policy: bool = False, **settings: Any) -> None:
        super().__init__(**settings)
        self.shared_policy = shared_policy
        self.settings["shared_policy"] = shared_policy

    @property
    def module_id(self) -> str:
        return "shared" if self.shared_policy else PLAYERS[0]

    def _environment(self, config: Any, task: Task) -> Any:
        from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv
        from ray.tune.registry import register_env

        import neurobench

        game = getattr(task, "game", None)
        if game is None:
            raise InvalidParameterError(
                f"ppo_multiagent trains on two-player games (the multiagent suite); {task.name} is a "
                f"single-agent task: use ppo_lstm or ppo_mlp"
            )
        trials = self.settings["trials_per_episode"]
        name = f"neurobench-{_safe(game.name)}-selfplay"
        register_env(
            name, lambda _context: ParallelPettingZooEnv(neurobench.parallel_env(game, trials_per_episode=trials))
        )
        policies, mapping = ({"shared"}, _shared) if self.shared_policy else (set(PLAYERS), _own)
        return config.environment(env=name).multi_agent(policies=policies, policy_mapping_fn=mapping)


def _shared(_agent_id: str, *_: Any, **__: Any) -> str:
    """RLlib's policy mapping (agent id, episode, ...): every player uses one policy."""
    return "shared"


def _own(agent_id: str, *_: Any, **__: Any) -> str:
    """Each player its own policy, named after it."""
    return agent_id
