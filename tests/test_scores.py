"""Scores that hold: each finding of the scoring audit, reproduced and fixed.

0 must be the best that ignores the stimulus, under the evaluation's own protocol; 1 must
not be beaten (a bound), or be labelled as the estimate it is."""

import numpy as np
import pytest

import neurobench
from neurobench.agents import GuessAgent, IdealObserver
from neurobench.agents.base import Agent
from neurobench.agents.games import Constant, RandomPlay
from neurobench.evaluate import evaluate
from neurobench.scoring import leaderboard
from neurobench.scoring.metrics import check_scorable, normalized


class Always(Agent):
    """The same answer at every window's last step."""

    name = "always"

    def __init__(self, answer):
        self.answer = answer

    def act(self, obs, state, info):
        return np.where(np.asarray(info["window"]) == 2, self.answer, 0), state


def _normalized(agent, task, n=4000, seed=21):
    task = neurobench.make_task(task)
    records = evaluate(agent, task, seed=seed, n_trials=n)
    success = records["score"].mean()
    se = records["score"].std() / np.sqrt(len(records))
    chance, ceiling = check_scorable(task)
    return normalized(success, chance.value, ceiling.value), se / (ceiling.value - chance.value)


def test_interval_discrimination_always_answering_two_is_chance_not_above_it():
    """61.8% of trials have answer 2 (ties go to 2): that is chance, not 0.5."""
    task = neurobench.make_task("IntervalDiscrimination")
    assert task.chance().value == pytest.approx(0.618, abs=0.005)
    score, se = _normalized(Always(2), task)
    assert abs(score) < 4 * se + 0.01


def test_the_multitask_guess_agent_withholds_where_withholding_wins_and_scores_chance():
    task = {
        "id": "MultiTask",
        "tasks": ["PerceptualDecisionMaking", "DelayMatchSample", "DelayPairedAssociation", "GoNogo"],
    }
    score, se = _normalized(GuessAgent(), task)
    assert abs(score) < 4 * se + 0.01


def test_matching_pennies_chance_is_random_play_under_the_evaluation_protocol():
    task = {"id": "Versus", "params": {"opponent": "algorithm2"}, "task": "MatchingPennies"}
    random, se = _normalized(RandomPlay(), task, n=2000)
    assert abs(random) < 4 * se + 0.02  # random play: 0, not about 1
    always, _ = _normalized(Constant(1), task, n=2000)
    assert always < -3  # a predictable player is punished far below chance


def test_matching_pennies_ceiling_is_an_estimate_the_exploiter_does_not_beat():
    task = neurobench.make_task({"id": "Versus", "params": {"opponent": "algorithm1"}, "task": "MatchingPennies"})
    ceiling = task.ceiling()
    assert ceiling.kind == "estimate"
    assert ceiling.se > 0
    assert ceiling.value > 0.53
    ideal = evaluate(IdealObserver(), task, seed=7, n_trials=4000)["score"].mean()  # the exploiter
    assert ideal <= ceiling.value + 4 * (ceiling.se + np.sqrt(0.25 / 4000))


def test_a_history_task_ceiling_is_a_bound_an_observer_of_the_prior_does_not_beat():
    """With the inner task's ceiling, an observer using the side-bias prior scored above 1."""
    task = neurobench.make_task(
        {
            "id": "SideBias",
            "params": {"probs": [[0.8, 0.2], [0.2, 0.8]], "block_dur": 500},
            "task": "PerceptualDecisionMaking",
        }
    )
    inner = neurobench.make_task("PerceptualDecisionMaking")
    bound = task.ceiling()
    assert bound.kind == "bound"
    assert bound.value > inner.ceiling().value
    records = evaluate(_BlockPriorObserver(task), task, seed=3, n_trials=4000)
    success = records["score"].mean()
    assert success > inner.ceiling().value  # the old ceiling would be beaten
    assert success <= bound.value + 4 * np.sqrt(success * (1 - success) / 4000)


class _BlockPriorObserver(Agent):
    """Infers the block from the answers it has seen (the task's own history predictor) and
    combines that prior with the exact Gaussian evidence of the stimulus."""

    name = "block_prior"

    def __init__(self, task):
        inner = task.task
        self.predictor = task.predictor()
        self.sigma = inner.noise_std
        self.steps = int(inner.period_steps("stimulus")[0])
        self.mu = np.asarray(inner.cohs) / 100 * self.steps

    def initial_state(self, num_envs, *, seed):
        return {"z": np.zeros(num_envs), "history": self.predictor.init(num_envs), "seen": np.full(num_envs, -1)}

    def act(self, obs, state, info):
        new = np.asarray(info["new_trial"])
        done = np.flatnonzero(new & (state["seen"] >= 0))
        if len(done):  # learn the last trial's answer (choice index = action - 1)
            self.predictor.observe(state["history"], done, state["seen"][done] - 1)
            state["seen"][done] = -1
        state["z"] = np.where(new, 0.0, state["z"]) + obs[:, 2] - obs[:, 1]
        s = self.sigma * np.sqrt(2 * self.steps)
        z = state["z"][:, None]
        llr = np.logaddexp.reduce(-((z - self.mu) ** 2) / (2 * s**2), axis=1) - np.logaddexp.reduce(
            -((z + self.mu) ** 2) / (2 * s**2), axis=1
        )
        predictive = self.predictor.predictive(state["history"], np.arange(len(obs)))
        prior = np.log(predictive[:, 1] / predictive[:, 0])  # for the second answer
        closing = np.asarray(info["window"]) == 2
        choice = np.where(llr + prior > 0, 2, 1)
        state["seen"] = np.where(closing, np.asarray(info["target"]), state["seen"])
        return np.where(closing, choice, 0), state


def test_prisoners_dilemma_against_tit_for_tat_is_refused_for_scoring_not_given_a_noisy_chance():
    tft = neurobench.make_task({"id": "Versus", "params": {"opponent": "tit_for_tat"}, "task": "PrisonersDilemma"})
    assert tft.chance().value == pytest.approx(1.0)  # always cooperating, blind, is already perfect
    with pytest.raises(neurobench.InvalidParameterError, match="cannot be scored"):
        check_scorable(tft)
    wsls = neurobench.make_task({"id": "Versus", "task": "PrisonersDilemma"})
    chance, ceiling = check_scorable(wsls)
    assert chance.kind == "estimate"
    assert chance.se > 0
    assert ceiling.value - chance.value > 0.2


def test_a_ceiling_equal_to_chance_is_a_clear_error_not_a_division_by_zero():
    task = neurobench.make_task("DelayMatchCategory", dim_ring=2)  # both categories give the same inputs
    with pytest.raises(neurobench.InvalidParameterError, match=r"ceiling 0\.5000 .* is not above its chance 0\.5000"):
        check_scorable(task)
    with pytest.raises(neurobench.InvalidParameterError, match="cannot be scored"):
        normalized(0.6, 0.5, 0.5)


def test_tasks_state_how_each_chance_and_ceiling_was_obtained():
    for info in neurobench.tasks():
        task = neurobench.make_task(info.name)
        if task.players > 1:
            task = neurobench.make_task({"id": "Versus", "task": info.name})
        chance, ceiling = task.chance(), task.ceiling()
        assert chance.kind in ("exact", "estimate"), info.name
        assert ceiling.kind in ("exact", "estimate", "bound"), info.name
        assert chance.method
        assert ceiling.method
        assert (chance.se > 0) == (chance.kind == "estimate"), info.name


def _run(outcome: str, ceiling: float, ceiling_se: float = 0.0) -> dict:
    success = outcome.count("c") / len(outcome)
    return {
        "metrics": {"success": success, "n_trials": len(outcome)},
        "ceiling": {"value": ceiling, "se": ceiling_se},
        "trials": {"outcome": outcome},
    }


def test_the_leaderboard_flags_a_success_above_the_ceiling_beyond_its_sessions_error_only():
    rng = np.random.default_rng(0)
    # sessions of 100 trials whose success differs by session, as a bandit's blocks make it:
    # 0.95 overall, above a ceiling of 0.925 by 3.6 binomial errors but by 1.5 session errors
    sessions = ["".join(np.where(rng.random(100) < p, "c", "f")) for p in [1.0, 0.9] * 5]
    clustered = _run("".join(sessions), ceiling=0.925)
    assert clustered["metrics"]["success"] - 0.925 > 3 * np.sqrt(0.95 * 0.05 / 1000)
    assert not leaderboard.flags(clustered)
    independent = _run("".join(np.where(rng.random(1000) < 0.99, "c", "f")), ceiling=0.925)
    assert leaderboard.flags(independent)
    assert not leaderboard.flags(_run(independent["trials"]["outcome"], ceiling=0.925, ceiling_se=0.03))
    assert not leaderboard.flags(_run("c" * 900 + "f" * 100, ceiling=0.9))


def test_a_perfect_run_is_not_flagged_against_a_ceiling_just_below_one():
    # a ceiling of 0.99989 gives 1,000 correct trials in a row nine times in ten
    assert not leaderboard.flags(_run("c" * 1000, ceiling=0.99989))
    assert leaderboard.flags(_run("c" * 1000, ceiling=0.98))
