"""Combined tasks and multi-agent games: PettingZoo's API and seed tests, views, opponents."""

import warnings

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import parallel_api_test, parallel_seed_test

import neurobench
from neurobench.multi import combine
from neurobench.tasks.games import GAMES, JointPerceptualDecision, MatchingPennies, make_game
from neurobench.tasks.opponents import OPPONENTS, vs

PAIR = ["PerceptualDecisionMaking", "DelayMatchSample"]


def _quiet_check(env):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", message=".*render modes.*")
        check_env(env)


def test_combined_tasks_pass_pettingzoos_tests():
    parallel_api_test(combine(PAIR, max_steps=300), num_cycles=400)
    parallel_seed_test(lambda: combine(PAIR, max_steps=300))


def test_each_combined_agent_runs_its_own_task_and_trials():
    env = combine(PAIR, max_steps=200)
    observations, _ = env.reset(seed=0)
    agents = env.possible_agents
    assert [observations[a].shape for a in agents] == [(3,), (3,)]
    single = {a: neurobench.make(t, trials_per_episode=None) for a, t in zip(agents, PAIR, strict=True)}
    seeds = np.random.SeedSequence(0).generate_state(2)
    for agent, child in zip(agents, seeds, strict=True):
        single[agent].reset(seed=int(child))  # what combine does with its seed
    ends = dict.fromkeys(agents, 0)
    for _ in range(199):
        actions = dict.fromkeys(agents, 0)
        observations, _, _, truncations, infos = env.step(actions)
        for a in agents:
            expected_obs, *_, _expected_info = single[a].step(0)
            np.testing.assert_array_equal(observations[a], expected_obs)
            ends[a] += infos[a]["new_trial"]
    assert ends[agents[0]] != ends[agents[1]]  # trials of different lengths: boundaries differ
    _, _, _, truncations, _ = env.step(dict.fromkeys(agents, 0))
    assert all(truncations.values())
    assert env.agents == []


def test_combined_tasks_must_share_dt_and_need_every_action():
    with pytest.raises(neurobench.InvalidParameterError, match="must share dt"):
        combine(["PerceptualDecisionMaking", "IntervalDiscrimination"])
    env = combine(PAIR)
    env.reset(seed=0)
    with pytest.raises(neurobench.InvalidActionError, match="no action for agents"):
        env.step({env.possible_agents[0]: 0})


def test_flat_view_is_a_gymnasium_env_with_a_joint_action():
    env = combine(PAIR, flat=True, max_steps=100)
    _quiet_check(env)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (6,)
    obs, reward, _terminated, _truncated, info = env.step(np.array([1, 0]))
    assert reward == pytest.approx(-0.1)  # the PDM agent broke fixation
    assert set(info) == set(env.combined.possible_agents)


@pytest.mark.parametrize("name", sorted(GAMES))
def test_games_pass_pettingzoos_tests(name):
    parallel_api_test(make_game(name, trials_per_episode=20), num_cycles=600)
    parallel_seed_test(lambda: make_game(name, trials_per_episode=20))


@pytest.mark.parametrize(("game", "opponent"), [(g, o) for g in sorted(OPPONENTS) for o in OPPONENTS[g]])
def test_every_opponent_view_passes_the_env_checker(game, opponent):
    _quiet_check(vs(game, opponent))


def _play(env, policy, trials):
    _, info = env.reset(seed=0)
    payoffs, choices = [], []
    while len(payoffs) < trials:
        _, _, _, truncated, info = env.step(policy(len(payoffs)) if info.get("window") else 0)
        if info["new_trial"]:
            payoffs.append(info["trial"]["payoff"])
            choices.append(info["trial"]["other_choice"])
        if truncated:
            _obs, info = env.reset()
    return np.array(payoffs), np.array(choices)


def test_matching_pennies_computer_exploits_predictable_players():
    always_left = lambda trial: 1  # noqa: E731
    alternate = lambda trial: 1 + trial % 2  # noqa: E731
    random_wins, _ = _play(vs("MatchingPennies", "random"), always_left, 400)
    assert abs(random_wins.mean() - 0.5) < 0.08  # algorithm 0 cannot be exploited, nor exploit
    for algorithm in ("algorithm1", "algorithm2"):
        wins, _ = _play(vs("MatchingPennies", algorithm), always_left, 400)
        assert wins[100:].mean() < 0.1  # a bias is detected and punished
        wins, _ = _play(vs("MatchingPennies", algorithm), alternate, 400)
        assert wins[100:].mean() < 0.15  # so is a sequence (history length >= 1)


def test_prisoners_dilemma_partners():
    cooperate = lambda trial: 1  # noqa: E731
    defect = lambda trial: 2  # noqa: E731
    payoffs, partner = _play(vs("PrisonersDilemma", "tit_for_tat"), defect, 50)
    assert partner[0] == 0
    assert np.all(partner[1:] == 1)  # tit for tat answers defection with defection
    assert payoffs[0] == 1.0
    assert np.all(payoffs[1:] == pytest.approx(0.2))
    payoffs, _ = _play(vs("PrisonersDilemma", "always_cooperate"), cooperate, 20)
    assert np.all(payoffs == pytest.approx(0.6))


def test_joint_perceptual_decision_pays_a_dyad_for_both_being_right():
    env = vs("JointPerceptualDecision", "ideal", trials_per_episode=2500)
    evidence = np.zeros(2)
    obs, info = env.reset(seed=3)
    payoffs = []
    while len(payoffs) < 2500:
        evidence += obs[2:4]
        action = int(np.argmax(evidence)) + 1 if info.get("window") else 0
        obs, _, _, _, info = env.step(action)
        if info["new_trial"]:
            payoffs.append(info["trial"]["payoff"])
            evidence = np.zeros(2)
    # Two ideal observers see one coherence, so their successes correlate: the ceiling is
    # E_coh[p(coh)^2], above the square of the mean accuracy by the variance across cohs.
    ceiling = neurobench.make_task("JointPerceptualDecision").ceiling().value
    accuracy = neurobench.make_task("PerceptualDecisionMaking", timing={"stimulus": 1000}).ceiling().value
    standard_error = np.sqrt(ceiling * (1 - ceiling) / len(payoffs))
    assert abs(np.mean(payoffs) - ceiling) < 3 * standard_error
    assert ceiling - accuracy**2 > 4 * standard_error


def test_games_reject_bad_actions_and_unknown_opponents():
    game = MatchingPennies()
    game.reset(seed=0)
    with pytest.raises(neurobench.InvalidActionError, match="player_0"):
        game.step({"player_0": 5, "player_1": 0})
    with pytest.raises(neurobench.UnknownNameError, match="algorithm2"):
        vs("MatchingPennies", "algorithm3")


def test_rllib_multi_agent_ppo_runs_an_iteration_on_matching_pennies():
    pytest.importorskip("ray")
    import os

    import ray
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv
    from ray.tune.registry import register_env

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    if not ray.is_initialized():
        ray.init(include_dashboard=False, log_to_driver=False)
    register_env(
        "neurobench_matching_pennies", lambda config: ParallelPettingZooEnv(MatchingPennies(trials_per_episode=20))
    )
    config = (
        PPOConfig()
        .environment("neurobench_matching_pennies")
        .multi_agent(policies={"player_0", "player_1"}, policy_mapping_fn=lambda agent_id, episode, **kwargs: agent_id)
        .env_runners(num_env_runners=0)
        .training(train_batch_size_per_learner=400, minibatch_size=200, num_epochs=1)
    )
    algo = config.build_algo()
    try:
        result = algo.train()
    finally:
        algo.stop()
    assert result["env_runners"]["num_env_steps_sampled_lifetime"] >= 400
    assert set(result["env_runners"]["agent_episode_returns_mean"]) == {"player_0", "player_1"}


def test_game_tasks_have_chance_below_ceiling_and_score_the_reference_agents():
    from neurobench.agents import GuessAgent, OracleAgent, RandomAgent
    from neurobench.evaluate import evaluate
    from neurobench.scoring import run_metrics

    expected = {  # (chance, ceiling) against the papers' opponents; see game_tasks' docstring
        "MatchingPennies": (0.0, 0.5),  # always one target is fully exploited; equilibrium wins half
        "PrisonersDilemma": (0.25, 1.0),  # a guesser cooperates half the time, tit-for-tat copies it
        "JointPerceptualDecision": (0.44, 0.82),  # 0.5 x the ideal partner's accuracy; two ideals
    }
    for game in sorted(GAMES):
        task = neurobench.make_task(game)
        assert task.family == "multiagent"
        chance, ceiling = expected[game]
        assert task.chance == pytest.approx(chance, abs=0.03)
        assert task.ceiling().value == pytest.approx(ceiling, abs=0.03)
        scores = {}
        for agent in (RandomAgent(), GuessAgent(), OracleAgent()):
            agent.fit(task, seed=0, budget=0)
            records = evaluate(agent, task, seed=7, n_trials=300, num_envs=10)
            assert len(records) == 300
            assert list(records["trial"]) == sorted(records["trial"])
            scores[agent.name] = run_metrics(records, task)["normalized"]
        assert scores["oracle"] >= 1.0  # the oracle sees the opponent's choice: at or above the ceiling
    matching = neurobench.make_task("MatchingPennies")
    guess = GuessAgent()
    guess.fit(matching, seed=0, budget=0)
    success = (evaluate(guess, matching, seed=3, n_trials=600)["outcome"] == "correct").mean()
    assert abs(success - 0.5) < 0.07  # random play is matching pennies' equilibrium: the ceiling


def test_game_evaluation_is_seeded():
    from neurobench.agents import RandomAgent
    from neurobench.evaluate import evaluate

    task = neurobench.make_task("PrisonersDilemma", opponent="random")
    runs = []
    for _ in range(2):
        agent = RandomAgent()
        agent.fit(task, seed=0, budget=0)
        runs.append(evaluate(agent, task, seed=11, n_trials=200, num_envs=8))
    assert runs[0].equals(runs[1])


def test_game_tasks_reject_unscorable_opponents_and_unknown_names():
    with pytest.raises(neurobench.InvalidParameterError, match="cannot be scored"):
        neurobench.make_task("PrisonersDilemma", opponent="always_defect")
    with pytest.raises(neurobench.UnknownNameError, match="tit_for_tat"):
        neurobench.make_task("PrisonersDilemma", opponent="grim")


def test_games_come_through_make_and_make_vec_and_reject_what_does_not_apply():
    env = neurobench.make("MatchingPennies", trials_per_episode=5)
    _quiet_check(env)
    vector = neurobench.make_vec("PrisonersDilemma", 4, trials_per_episode=5)
    obs, _ = vector.reset(seed=1)
    assert obs.shape == (4, *env.observation_space.shape)
    first, _ = neurobench.make_vec("PrisonersDilemma", 4).reset(seed=1)
    np.testing.assert_array_equal(obs, first)
    faster = neurobench.make_task(neurobench.make_task("MatchingPennies"), opponent="algorithm1", dt=50)
    assert (faster.opponent, faster.settings["dt"]) == ("algorithm1", 50)
    with pytest.raises(neurobench.UnknownNameError, match=r"'bogus'.*Valid: choice, dt"):
        neurobench.make("MatchingPennies", bogus=1)
    with pytest.raises(neurobench.InvalidParameterError, match="trials_per_episode, not max_steps"):
        neurobench.make("MatchingPennies", max_steps=10)
    with pytest.raises(neurobench.InvalidParameterError, match="num_envs"):
        neurobench.make_vec("MatchingPennies", 0)
    with pytest.raises(neurobench.InvalidParameterError, match="is a game"):
        neurobench.Dataset("MatchingPennies", 4, 10, seed=0)


def test_an_unseeded_reset_continues_a_seeded_game():
    """reset() after reset(seed=s) is determined by s, for the game and against an opponent."""

    def session(env, seeded_reset, reset, step):
        seeded_reset(env)
        observations = []
        for _ in range(3):
            for _ in range(30):
                observations.append(step(env))
            observations.append(reset(env))
        return np.array(observations)

    def play(game):
        obs, *_ = game.step(dict.fromkeys(game.agents, 1))
        return obs["player_0"]

    games = [JointPerceptualDecision() for _ in range(2)]
    runs = [session(g, lambda g: g.reset(seed=5), lambda g: g.reset()[0]["player_0"], play) for g in games]
    np.testing.assert_array_equal(runs[0], runs[1])
    versus = [vs("JointPerceptualDecision", "ideal", trials_per_episode=5) for _ in range(2)]
    runs = [session(e, lambda e: e.reset(seed=5), lambda e: e.reset()[0], lambda e: e.step(1)[0]) for e in versus]
    np.testing.assert_array_equal(runs[0], runs[1])
