"""Games on the engine: PettingZoo views, opponents faithful to their papers, sessions,
scores, and the native vector env."""

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test, parallel_seed_test
from scipy import stats

import neurobench
from neurobench import InvalidActionError
from neurobench.agents.games import Constant, Exploiter, RandomPlay
from neurobench.evaluate import evaluate
from neurobench.scoring.metrics import normalized, run_metrics
from neurobench.tasks.opponents import PredictiveOpponent, ProbingTitForTat, TitForTat
from neurobench.tasks.partners import SENSITIVITY_LIMIT

GAMES = ["MatchingPennies", "PrisonersDilemma", "JointPerceptualDecision"]


@pytest.mark.parametrize("game", GAMES)
def test_games_pass_pettingzoos_parallel_api_and_seed_tests(game):
    parallel_api_test(neurobench.parallel_env(game, trials_per_episode=20), num_cycles=300)
    parallel_seed_test(lambda: neurobench.parallel_env(game, trials_per_episode=20))


def test_combined_tasks_pass_pettingzoos_tests_and_a_rejected_step_changes_nothing():
    make = lambda: neurobench.combine(["PerceptualDecisionMaking", "DelayMatchSample"], max_steps=200)  # noqa: E731
    parallel_api_test(make(), num_cycles=300)
    parallel_seed_test(make)
    env = make()
    env.reset(seed=0)
    first, second = env.possible_agents
    with pytest.raises(InvalidActionError, match=second):
        env.step({first: 0, second: 9})
    _, _, _, _, infos = env.step({first: 0, second: 0})
    assert infos[first]["step"] == 1
    assert infos[second]["step"] == 1


def test_stepping_a_finished_episode_is_a_clear_error():
    env = neurobench.parallel_env("MatchingPennies", trials_per_episode=1)
    env.reset(seed=0)
    while env.agents:
        env.step(dict.fromkeys(env.agents, 1))
    with pytest.raises(InvalidActionError, match="call reset"):
        env.step({"player_0": 1, "player_1": 1})


def test_a_games_trials_are_fixed_by_the_seed_in_every_view():
    """The joint decision's stimulus of a trial is the same in the PettingZoo view and
    against the ideal partner: nature's draws do not depend on who plays."""
    pz = neurobench.parallel_env("JointPerceptualDecision")
    observations, _ = pz.reset(seed=5)
    single = neurobench.make("JointPerceptualDecision")
    obs, _ = single.reset(seed=5)
    np.testing.assert_array_equal(observations["player_0"], obs)
    vec = neurobench.make_vec("JointPerceptualDecision", num_envs=1)
    np.testing.assert_array_equal(vec.reset(seed=5)[0][0], obs)


def test_the_games_vector_env_is_the_native_one_and_runs_sessions_in_lockstep():
    vec = neurobench.make_vec("MatchingPennies", num_envs=64, trials_per_episode=None)
    assert isinstance(vec, neurobench.TaskVectorEnv)
    _, info = vec.reset(seed=0)
    ended = 0
    for _ in range(200):
        _, _, _, _, info = vec.step(np.random.default_rng(0).integers(0, 3, size=64))
        ended += int(info["new_trial"].sum())
    assert ended >= 64 * 15


def _score(agent, opponent, trials=1000, session=500, game="MatchingPennies"):
    task = neurobench.make_task(
        {"id": "Versus", "params": {"opponent": opponent, "session_trials": session}, "task": game}
    )
    return float(evaluate(agent, task, seed=3, n_trials=trials)["score"].mean()), task


def test_barracloughs_computer_punishes_a_predictable_player_and_not_a_random_one():
    always, _ = _score(Constant(1), "algorithm1")
    random, _ = _score(RandomPlay(), "algorithm1")
    assert always < 0.15  # the bias is detected and countered
    assert random == pytest.approx(0.5, abs=0.05)


def test_the_exploiter_beats_half_but_not_the_ceiling_plus_its_interval():
    for opponent in ("algorithm1", "algorithm2"):
        won, task = _score(
            Exploiter(lambda o=opponent: PredictiveOpponent(with_rewards=o == "algorithm2")), opponent, trials=4000
        )
        ceiling = task.ceiling()
        assert won > 0.53
        assert won <= ceiling.value + 4 * (ceiling.se + np.sqrt(0.25 / 4000))


def test_algorithm_two_pools_algorithm_ones_choice_only_tests():
    tests = PredictiveOpponent(with_rewards=True)._tests
    assert {(k, 2) for k in range(5)} <= set(tests)
    assert {(k, 4) for k in range(1, 5)} <= set(tests)


def test_opponents_learn_from_the_whole_session_and_not_from_misses():
    opponent = PredictiveOpponent(with_rewards=False)
    state = opponent.init(1)
    rows = np.array([0])
    for _ in range(120):  # a long run of the same choice builds a significant bias
        opponent.update(state, rows, np.array([0]), np.array([1]), np.array([0]))
    assert state["seen"][0] == 120
    assert state["counts0_2"][0, 0].tolist() == [120, 120]
    task = neurobench.make_task({"id": "Versus", "params": {"opponent": "algorithm1"}, "task": "MatchingPennies"})
    engine = task.engine(1)
    engine.reset(0)
    missed = 0
    for _ in range(40):  # fixate through every window: every trial is missed
        result = engine.step(np.array([0]))
        missed += int(result.ended[0] and result.trials["outcome"][0] == 3)
    assert missed == 4
    assert engine._state["opponent.seen"][0] == 0  # missed trials teach the opponent nothing
    tft = TitForTat()
    state = tft.init(1)
    tft.update(state, rows, np.array([1]), np.array([0]), np.array([0]))
    assert state["last"][0] == 1  # copies the last choice; a missed trial never reaches update


def test_prisoners_dilemma_pays_the_papers_juice_drops():
    env = neurobench.parallel_env("PrisonersDilemma")
    env.reset(seed=0)
    paid = {}
    for a, b in ((1, 1), (1, 2), (2, 1), (2, 2)):
        while True:
            _, rewards, _, _, infos = env.step({"player_0": a, "player_1": b})
            if "trial" in infos["player_0"]:
                paid[(a, b)] = (rewards["player_0"], rewards["player_1"])
                break
    assert paid == {(1, 1): (4.0, 4.0), (1, 2): (1.0, 6.0), (2, 1): (6.0, 1.0), (2, 2): (2.0, 2.0)}


def test_joint_decision_normalization_spans_deferring_to_pooling():
    task = neurobench.make_task({"id": "Versus", "task": "JointPerceptualDecision"})
    chance, ceiling = task.chance(), task.ceiling()
    assert ceiling.kind == "bound"
    assert chance.value < ceiling.value
    from neurobench.agents.reference import IdealObserver

    ideal = float(evaluate(IdealObserver(), task, seed=1, n_trials=3000)["score"].mean())
    assert chance.value - 0.03 < ideal <= ceiling.value + 0.02


def test_joint_decision_sensitivity_reads_one_observer_as_one_and_pooling_as_root_two():
    from neurobench.tasks.partners import JointObserver, dyad_sensitivity, pooled_bound

    game = neurobench.make_task("JointPerceptualDecision")
    observer = JointObserver(game)
    alone = float(np.mean(stats.norm.cdf(observer.mu / observer.s)))
    assert dyad_sensitivity(game, alone) == pytest.approx(1.0, abs=1e-9)
    assert dyad_sensitivity(game, pooled_bound(game)) == pytest.approx(np.sqrt(2), abs=1e-9)
    assert dyad_sensitivity(game, 0.5) == pytest.approx(0.0, abs=1e-9)
    assert dyad_sensitivity(game, 1.0) == SENSITIVITY_LIMIT
    assert dyad_sensitivity(game, 0.0) == -SENSITIVITY_LIMIT


def test_joint_decision_places_random_play_near_minus_one_on_sensitivity_and_near_minus_four_on_accuracy():
    """Version 1 normalized accuracy, whose whole range from deferring to pooling is under
    4 points: random play (success about 0.70) read -4, and that one task set a suite's IQM.
    Both versions have the same trials, chance and ceiling; only the scale differs."""
    task = neurobench.make_task(
        {"id": "Versus", "task": "JointPerceptualDecision-v2", "params": {"session_trials": 500}}
    )
    records = evaluate(RandomPlay(), task, seed=3, n_trials=2000, num_envs=4)
    on_sensitivity = run_metrics(records, task)["normalized"]
    on_accuracy = normalized(float(records["score"].mean()), task.chance().value, task.ceiling().value)
    assert -5.0 < on_accuracy < -3.0
    assert -1.6 < on_sensitivity < -0.7
    version_one = neurobench.make_task({"id": "Versus", "task": "JointPerceptualDecision-v1"})
    assert version_one.score_scale(0.7) == 0.7
    assert task.score_scale(0.7) != 0.7


def test_probing_tit_for_tat_exploits_a_lapse_let_pass_until_the_partner_defects():
    opponent = ProbingTitForTat(error=0.0)
    state = opponent.init(2)
    rows = np.arange(2)
    # trial 1: both cooperate; trial 2: it lapses (defects unprovoked) in both sessions
    opponent.update(state, rows, theirs=np.array([0, 0]), mine=np.array([0, 0]), won=np.zeros(2))
    opponent.update(state, rows, theirs=np.array([0, 0]), mine=np.array([1, 1]), won=np.zeros(2))
    assert state["lapse"].all()
    assert state["next"].tolist() == [0, 0]
    # trial 3: session 0 lets it pass, session 1 punishes
    opponent.update(state, rows, theirs=np.array([0, 1]), mine=np.array([0, 0]), won=np.zeros(2))
    assert state["exploit"].tolist() == [True, False]
    assert state["next"].tolist() == [1, 1]
    # session 0 keeps being exploited while it cooperates, and the exploitation ends when it defects
    opponent.update(state, rows[:1], theirs=np.array([0]), mine=np.array([1]), won=np.zeros(1))
    assert state["exploit"][0]
    assert state["next"][0] == 1
    assert not state["lapse"][0]
    opponent.update(state, rows[:1], theirs=np.array([1]), mine=np.array([1]), won=np.zeros(1))
    assert not state["exploit"][0]
    assert state["next"][0] == 1


def test_against_probing_tit_for_tat_cooperation_pays_and_against_wsls_defection_pays_as_much():
    """Why the multiagent suite's prisoner's dilemma moved from wsls to prober (v3): a
    learner maximizing juice should be led to what the score counts, mutual cooperation."""
    from neurobench.agents.games import Retaliator, WinStayLoseShiftPlayer

    def play(agent, opponent):
        task = neurobench.make_task({"id": "Versus", "task": "PrisonersDilemma", "params": {"opponent": opponent}})
        records = evaluate(agent, task, seed=4, n_trials=2000, num_envs=4)
        return float(records["score"].mean()), float(records["reward"].mean())

    defect, reader = play(Constant(2), "prober"), play(Retaliator(), "prober")
    assert reader[0] > 0.8
    assert defect[0] == 0.0
    assert reader[1] > defect[1] + 1.0
    assert play(Constant(1), "prober")[0] < 0.2  # a blind cooperator is exploited
    wsls_defect, wsls_reader = play(Constant(2), "wsls"), play(WinStayLoseShiftPlayer(), "wsls")
    assert wsls_reader[0] > 0.85
    assert wsls_defect[1] >= wsls_reader[1]
