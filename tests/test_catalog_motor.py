"""The motor family's NeuroGym ports: Reaching1D, Reaching1DWithSelfDistraction,
AngleReproduction (closed loops: the agent's own position, moved by its actions, is in the
observation) and SpatialSuppressMotion (a distribution reported at every step).

Conformance over a small grid; the closed loop checked step by step in a vector env; the
graded per-step reward as a curve against the distance; the reaching ceilings against
brute force over every move sequence; SpatialSuppressMotion's targets against Tadin et
al.'s curves and its rule on hand-built reports."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neurobench
from neurobench.core.stream import TrialStream
from neurobench.tasks.motor import (
    START,
    STEP,
    AngleReproduction,
    Reaching1D,
    Reaching1DWithSelfDistraction,
    SpatialSuppressMotion,
    greedy_reach,
    human_choices,
    plan_values,
)
from neurobench.testing import check_task

GRID = [
    "Reaching1D",
    {"id": "Reaching1D", "params": {"dim_ring": 8, "timing": {"reach": 1000}, "rewards": {"fail": -0.5}}},
    "Reaching1DWithSelfDistraction",
    {"id": "Reaching1DWithSelfDistraction", "params": {"timing": {"reach": ["uniform", [300, 800]]}}},
    "AngleReproduction",
    {"id": "AngleReproduction", "params": {"timing": {"delay1": 200, "go2": 300}}},
    {"id": "AngleReproduction", "params": {"timing": {"delay2": [300, 500]}}},
    "SpatialSuppressMotion",
    {"id": "SpatialSuppressMotion", "params": {"tolerance": 0.05, "dt": 16.6}},
]


@pytest.mark.parametrize("node", GRID, ids=lambda n: n if isinstance(n, str) else f"{n['id']}-{n['params']}")
def test_the_grid_conforms(node):
    check_task(node)


def circular(x):
    return np.abs(np.mod(np.asarray(x) + np.pi, 2 * np.pi) - np.pi)


def decode(units):
    theta = np.arange(units.shape[-1]) * (2 * np.pi / units.shape[-1])
    return np.mod(np.angle(units.astype(float) @ np.exp(1j * theta)), 2 * np.pi)


# -- the closed loop -------------------------------------------------------------------------
def test_the_position_input_follows_each_environments_own_actions():
    """Three environments stepped together with different action streams: each one's
    position input shows pi plus 0.05 rad per net move up, its reward is NeuroGym's
    max(1 - distance, -0.1) against its own (real-valued) angle during the reach, and its
    score the mean rescaled reward."""
    task = Reaching1D()
    env = neurobench.make_vec(task, num_envs=3, trials_per_episode=None)
    obs, info = env.reset(seed=2)
    c = task.obs_channels
    rng = np.random.default_rng(0)
    net = np.zeros(3, dtype=int)
    rewards, after = [[], [], []], [[], [], []]  # per environment: rewards, net moves after each step
    done = 0
    while done < 30:
        actions = np.array([1, 2, rng.integers(3)])
        np.testing.assert_allclose(decode(obs[:, c["position"]]), np.mod(START + STEP * net, 2 * np.pi), atol=1e-5)
        obs, reward, _, _, info = env.step(actions)
        net += (actions == 1).astype(int) - (actions == 2)
        for e in range(3):
            rewards[e].append(reward[e])
            after[e].append(net[e])
        if "trial" in info:
            for e in np.flatnonzero(info["_trial"]):
                record = {k: v[e] for k, v in info["trial"].items()}
                paid = np.array(rewards[e][-5:])  # the reach: the trial's last 5 steps
                ends = START + STEP * np.array(after[e][-5:])
                expected = np.maximum(1 - circular(ends - record["ground_truth"]), -0.1)
                np.testing.assert_allclose(paid, expected, atol=1e-9)
                assert np.all(np.array(rewards[e][:-5]) == 0)  # nothing during fixation
                assert record["score"] == pytest.approx(np.mean((expected + 0.1) / 1.1))
                assert (record["outcome"] == 1) == (record["score"] > 0)
                rewards[e], after[e], net[e] = [], [], 0
                done += 1


REACHING = [node for node in GRID if "Reach" in str(node) or "Angle" in str(node)]


@pytest.mark.parametrize("node", REACHING, ids=lambda n: n if isinstance(n, str) else f"{n['id']}-{n['params']}")
@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**31), moves=st.integers(0, 2**31))
def test_the_single_env_is_the_engine_with_one_environment(node, seed, moves):
    """The reaching tasks' single env steps in plain Python, not through the engine: under
    any actions it gives the engine's observations, rewards, infos and trial records, step
    for step, random durations included; ``restart`` abandons a trial as the engine's."""
    single = neurobench.make(node, trials_per_episode=None)
    vector = neurobench.make_vec(node, num_envs=1, trials_per_episode=None)
    obs, info = single.reset(seed=seed)
    obs_v, info_v = vector.reset(seed=seed)
    actions = np.random.default_rng(moves).integers(3, size=300)
    for step, action in enumerate(actions):
        np.testing.assert_array_equal(obs, obs_v[0])
        for key in ("target", "window", "step", "trial_index", "new_trial"):
            assert info[key] == info_v[key][0], (step, key)
        if step == 150:  # abandon the trial in play
            obs = single.unwrapped.session.restart()
            vector.unwrapped.engine.restart(np.array([0]))
            obs_v, view = vector.unwrapped.engine.observe()
            info, obs, info_v = obs, obs.pop("obs"), view.as_info()
            assert info["step"] == 0
            continue
        obs, reward, _, _, info = single.step(int(action))
        obs_v, reward_v, _, _, info_v = vector.step(np.array([action]))
        assert reward == reward_v[0]
        assert info["gt"] == info_v["gt"][0]
        assert ("trial" in info) == bool(info_v.get("_trial", [False])[0])
        if "trial" in info:
            assert info["trial"] == {k: v[0].item() for k, v in info_v["trial"].items()} | {
                "outcome": info["trial"]["outcome"]
            }
            assert info["trial"]["outcome"] == ("correct" if info_v["trial"]["outcome"][0] == 1 else "fail")


def test_rewards_use_the_real_angle_not_its_integer_part():
    """NeuroGym stored the angle in an integer array; here a still agent is paid against
    the angle itself, which often pays otherwise than the truncated one."""
    task = Reaching1D()
    env = neurobench.make(task, trials_per_episode=None)
    env.reset(seed=0)
    differs = 0
    for _ in range(40):
        total, info = 0.0, {}
        while "trial" not in info:
            _, reward, _, _, info = env.step(0)
            total += reward
        angle = info["trial"]["ground_truth"]
        real = 5 * max(1 - circular(START - angle), -0.1)
        assert total == pytest.approx(real)
        differs += abs(real - 5 * max(1 - circular(START - np.floor(angle)), -0.1)) > 1e-6
    assert differs >= 10  # (far from pi both are floored at -0.1)


def test_the_distracted_ring_carries_own_position_plus_a_weak_target():
    task = Reaching1DWithSelfDistraction()
    env = neurobench.make(task, trials_per_episode=None)
    obs, info = env.reset(seed=4)
    theta = np.arange(32) * (2 * np.pi / 32)
    seen, position = [], START
    while True:
        seen.append((obs.copy(), position, info["window"] > 0))
        obs, _, _, _, info = env.step(1)
        position += STEP
        if "trial" in info:
            break
    angle = info["trial"]["ground_truth"]
    for frame, where, reaching in seen:
        expected = np.cos(theta - where) + 0.3 * reaching * np.cos(theta - angle)
        np.testing.assert_allclose(frame, expected, atol=1e-5)
    assert sum(r for _, _, r in seen) == 5


def test_the_target_action_moves_toward_the_angle():
    task = Reaching1D()
    env = neurobench.make(task, trials_per_episode=None)
    obs, info = env.reset(seed=8)
    for _ in range(200):
        target = int(info["target"])
        position, reaching = decode(obs[16:]), info["window"] > 0
        if not reaching:
            assert target == 0
        obs, _, _, _, info = env.step(target)
        if reaching and "trial" not in info:
            assert circular(decode(obs[16:]) - decode(obs[:16])) <= circular(position - decode(obs[:16])) + 1e-6


# -- ceilings ----------------------------------------------------------------------------------
def best_sequence(angle_offsets, paid_steps, lead=0, width=1.1):
    """Brute force: the best total rescaled reward over every move sequence (stay, +, -)
    of ``lead + len(paid_steps)`` steps from the start, ``paid_steps[i]`` naming which angle
    step ``lead + i`` pays against."""
    best = -np.inf
    for moves in itertools.product((0, 1, -1), repeat=lead + len(paid_steps)):
        position = np.cumsum(moves) * STEP
        paid = [
            max(width - circular(position[lead + i] - angle_offsets[k]), 0) / width for i, k in enumerate(paid_steps)
        ]
        best = max(best, sum(paid))
    return best


@settings(max_examples=25, deadline=None)
@given(offset=st.floats(-np.pi, np.pi), steps=st.integers(1, 6))
def test_moving_straight_at_the_angle_is_best_at_every_step(offset, steps):
    """Greedy reaching equals the best of all 3^n move sequences for a reach of n steps."""
    width = 1.1
    distance = circular(offset)
    greedy = sum(
        max(width - abs(distance - STEP * min(round(distance / STEP), j)), 0) / width for j in range(1, steps + 1)
    )
    assert greedy == pytest.approx(best_sequence([offset], [0] * steps), abs=1e-9)


def test_the_reaching_ceiling_integral_matches_monte_carlo_of_the_best_sequence():
    rng = np.random.default_rng(0)
    offsets = rng.uniform(-np.pi, np.pi, 400)
    values = [best_sequence([a], [0] * 3) / 3 for a in offsets]
    exact = greedy_reach(np.arange(1, 4), 1.1).mean()
    assert exact == pytest.approx(np.mean(values), abs=4 * np.std(values) / np.sqrt(len(values)))
    assert Reaching1D(timing={"reach": 300}).ceiling().value == pytest.approx(exact)


@settings(max_examples=15, deadline=None)
@given(a=st.floats(-np.pi, np.pi), b=st.floats(-np.pi, np.pi), start=st.integers(-2, 2))
def test_the_angle_plan_is_the_best_move_sequence(a, b, start):
    """The dynamic programme of AngleReproduction (both angles known) equals brute force
    over every sequence of 1 unscored, 2 first-angle and 2 second-angle steps."""
    value, moves = plan_values(np.array([a]), np.array([b]), 1, 2, 2, 8, 1.1, policy=True)
    brute = best_sequence([a - start * STEP, b - start * STEP], [0, 0, 1, 1], lead=1)
    assert value[0, start + 8] == pytest.approx(brute, abs=1e-9)
    position, earned = start, 0.0  # following the policy earns the value
    for s, paid in enumerate([None, 0, 0, 1, 1]):
        position += {0: 0, 1: 1, 2: -1}[int(moves[s][0, position + 8])]
        if paid is not None:
            earned += max(1.1 - circular(position * STEP - (a, b)[paid]), 0) / 1.1
    assert earned == pytest.approx(value[0, start + 8], abs=1e-9)


def test_angle_reproduction_layout_and_rewards():
    """The stimulus ring shows angle 1 in stim1 and angle 2 in stim2 only; go1 and go2
    inputs mark their periods; go1 steps pay against angle 1 and go2 steps against angle 2."""
    task = AngleReproduction()
    env = neurobench.make(task, trials_per_episode=None)
    obs, info = env.reset(seed=1)
    c = task.obs_channels
    frames, rewards, position = [], [], START
    while True:
        frames.append(obs.copy())
        obs, reward, _, _, info = env.step(2)
        position -= STEP
        rewards.append((reward, position))
        if "trial" in info:
            break
    record = info["trial"]
    frames = np.array(frames)
    assert len(frames) == 35
    np.testing.assert_allclose(decode(frames[5:10, c["stimulus"]]), record["ground_truth1"], atol=1e-5)
    np.testing.assert_allclose(decode(frames[15:20, c["stimulus"]]), record["ground_truth2"], atol=1e-5)
    assert np.abs(frames[np.r_[0:5, 10:15, 20:35]][:, c["stimulus"]]).max() == 0
    np.testing.assert_array_equal(frames[:, c["go1"].start], np.r_[np.zeros(25), np.ones(5), np.zeros(5)])
    np.testing.assert_array_equal(frames[:, c["go2"].start], np.r_[np.zeros(30), np.ones(5)])
    for t, (reward, where) in enumerate(rewards):
        angle = record["ground_truth1"] if t < 30 else record["ground_truth2"]
        expected = max(1 - circular(where - angle), -0.1) if t >= 25 else 0.0
        assert reward == pytest.approx(expected)


def test_angle_reproduction_optimum_beats_heading_for_each_angle_in_turn():
    """The ceiling is the optimal policy's value: above what following the target action
    (head for the angle to reproduce next) earns, which is itself above chance."""
    task = AngleReproduction()
    from neurobench.agents.reference import OracleAgent
    from neurobench.evaluate import evaluate

    greedy = evaluate(OracleAgent(), task, seed=3, n_trials=3000)["score"]
    assert task.chance().value + 0.1 < greedy.mean() < task.ceiling().value - 4 * greedy.std() / np.sqrt(3000)


def test_random_durations_make_the_angle_ceiling_a_bound():
    level = AngleReproduction(timing={"delay2": [300, 500]}).ceiling()
    assert level.kind == "bound"
    assert AngleReproduction().ceiling().kind == "estimate"
    assert AngleReproduction().ceiling().se < 1e-4


# -- SpatialSuppressMotion -------------------------------------------------------------------
def test_targets_are_the_human_choice_curves():
    task = SpatialSuppressMotion()
    batch = task.sample(np.random.default_rng(0), 400)
    assert batch.target.shape == (400, 36, 4)
    assert batch.target.min() >= 0
    np.testing.assert_allclose(batch.target.sum(axis=2), 1, atol=1e-6)
    rows = np.arange(batch.n)
    direction = batch.conditions["direction"] - 1
    opposite = np.array([1, 0, 3, 2])[direction]
    high = batch.conditions["contrast"] > 0.5
    frame27 = batch.target[rows, 27]
    np.testing.assert_allclose(frame27[rows, direction], np.where(high, 0.85, 0.933), atol=1e-6)  # tabulated frames
    np.testing.assert_allclose(frame27[rows, opposite], np.where(high, 0.075, 0.016), atol=1e-6)
    last = batch.target[rows, 35]  # NeuroGym's negative orthogonal probabilities (-0.015) clipped and renormalised
    np.testing.assert_allclose(last[high, direction[high]], 0.99 / 1.03, atol=1e-6)
    assert set(np.unique(batch.conditions["diameter"][high])) == {8}
    assert set(np.unique(batch.conditions["diameter"][~high])) == {1}


def test_spatial_suppression_large_high_contrast_motion_is_seen_later():
    """Tadin et al.'s finding in the curves: the large high-contrast grating needs longer
    viewing than the small low-contrast one before humans are mostly right."""
    times = np.arange(60) * 8.3
    high, low = human_choices(0.99, times)[:, 0], human_choices(0.05, times)[:, 0]
    assert np.argmax(low >= 0.75) < np.argmax(high >= 0.75)
    assert np.all(low[20:40] >= high[20:40])


def test_inputs_are_direction_pools_sized_by_the_grating():
    task = SpatialSuppressMotion()
    batch = task.sample(np.random.default_rng(1), 200)
    theta = np.array([-np.pi / 2, np.pi / 2, 0, np.pi])
    for i in range(batch.n):
        d, contrast, size = (
            batch.conditions["direction"][i] - 1,
            batch.conditions["contrast"][i],
            batch.conditions["diameter"][i],
        )
        pools = batch.obs[i].reshape(36, 4, 8)
        expected = (np.cos(theta - theta[d]) + 1) * contrast / 2
        np.testing.assert_allclose(
            pools[:, :, :size], np.broadcast_to(expected[None, :, None], (36, 4, size)), atol=1e-6
        )
        assert np.abs(pools[:, :, size:]).max(initial=0) == 0


def report(task, seed, policy):
    env = neurobench.make(task, trials_per_episode=None)
    _, info = env.reset(seed=seed)
    rewards = []
    while True:
        _, reward, _, _, info = env.step(policy(info).astype(np.float32))
        rewards.append(reward)
        if "trial" in info:
            return np.array(rewards), info["trial"]


def test_a_report_is_scored_by_total_variation_at_every_step():
    task = SpatialSuppressMotion()
    rewards, record = report(task, 0, lambda info: np.asarray(info["target"]))
    assert record["outcome"] == "correct"
    assert np.abs(rewards).max() < 1e-6
    target = TrialStream(task, 0).take(1).target[0]
    rewards, record = report(task, 0, lambda info: np.zeros(4))  # all zero reads as uniform
    np.testing.assert_allclose(rewards, -0.5 * np.abs(target - 0.25).sum(axis=1), atol=1e-6)
    assert record["outcome"] == "fail"

    def off_once(info):
        values = np.asarray(info["target"], dtype=float).copy()
        if info["step"] == 20:
            values = 0.8 * values + 0.2 * np.eye(4)[np.argmin(values)]  # moves 0.2 of the mass
        return values

    rewards, record = report(task, 0, off_once)
    assert record["outcome"] == "fail"
    assert rewards[20] < -0.1 + 1e-6
    assert np.abs(np.delete(rewards, 20)).max() < 1e-6


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4),
    st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4),
)
def test_the_single_envs_total_variation_is_the_vector_envs(target, action):
    """The single env scores a report in plain Python; the vector env with numpy. They
    agree on the distance and so on every correct/fail decision near the tolerance."""
    rule = SpatialSuppressMotion().rule
    error, pay = rule.measure(np.array([target]), np.array([action]))
    error_one, pay_one = rule.measure_one(target, action)
    assert error_one == pytest.approx(float(error[0]), abs=1e-12)
    assert pay_one == pytest.approx(float(pay[0]), abs=1e-12)


def test_the_blind_report_passes_one_grating_of_one_direction():
    """Chance is 1/8 at the default tolerance: the blind report passes exactly the trials
    of one (direction, grating) pair; with a looser tolerance one report serves both
    gratings of a direction (1/4); with a stimulus too short to tell directions apart the
    task is refused."""
    task = SpatialSuppressMotion()
    assert task.chance().value == 0.125
    from neurobench.evaluate import evaluate

    records = evaluate(task.blind_policy(), task, seed=0, n_trials=800)
    passed = records[records["outcome"] == "correct"]
    assert set(zip(passed["direction"], passed["contrast"], strict=True)) == {(1, 0.99)}
    assert SpatialSuppressMotion(tolerance=0.24).chance().value == 0.25
    with pytest.raises(neurobench.InvalidParameterError, match="ignores the stimulus"):
        SpatialSuppressMotion(timing={"stimulus": 100})


def test_bad_parameters_name_themselves():
    with pytest.raises(neurobench.InvalidParameterError, match="dim_ring"):
        Reaching1D(dim_ring=2)
    with pytest.raises(neurobench.InvalidParameterError, match="'correct'"):
        Reaching1D(rewards={"fail": 2.0})
    with pytest.raises(neurobench.UnknownNameError, match="abort"):
        Reaching1D(rewards={"abort": -1})
    with pytest.raises(neurobench.InvalidParameterError, match="scored periods"):
        AngleReproduction(timing={"go1": 0, "go2": 0})
    with pytest.raises(neurobench.InvalidParameterError, match="stim2"):
        AngleReproduction(timing={"stim2": 0})
    with pytest.raises(neurobench.InvalidParameterError, match="constant"):
        SpatialSuppressMotion(timing={"stimulus": [200, 300]})
