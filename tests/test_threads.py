"""tinygrad_dl/autograd.py under threads: grad mode and backward's own switches are per thread
(as PyTorch's are), and the in-place change table is safe and flat with many live arrays."""

import sys
import threading

import numpy as np
import pytest

import tinygrad_dl as tg
from tinygrad_dl import autograd


@pytest.fixture
def fast_thread_switching():
    # Switch threads every 10 microseconds instead of 5 ms, so they really interleave.
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(previous)


def _run_threads(*targets):
    errors = []

    def guarded(target):
        try:
            target()
        except BaseException as error:  # reported in the main thread
            errors.append(error)

    # daemon: a thread stuck by a bug must fail this test, not hang the test run at exit
    threads = [threading.Thread(target=guarded, args=(t,), daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    if errors:
        raise errors[0]


def _data(seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((3, 40))
    Y = (X[0:1] + 0.5 * X[1:2] > 0).astype(np.float64)
    return X, Y


def _train(seed, steps=60):
    """Logistic regression in the course's notation, gradient descent; returns (w, b)."""
    X, Y = _data(seed)
    w = tg.Tensor(np.zeros((1, 3)), requires_grad=True)
    b = tg.Tensor(np.zeros((1, 1)), requires_grad=True)
    for _ in range(steps):
        A = tg.sigmoid(w @ X + b)
        cost = -(Y * tg.log(A) + (1 - Y) * tg.log(1 - A)).mean()
        cost.backward()
        with tg.no_grad():
            w -= 0.5 * w.grad
            b -= 0.5 * b.grad
        w.grad = b.grad = None
    return w.data.copy(), b.data.copy()


def test_two_trainers_and_an_evaluator_under_no_grad_train_bitwise_as_alone(
    fast_thread_switching,
):
    alone = [_train(1), _train(2)]
    together = [None, None]
    done = threading.Event()
    evaluations = []

    def trainer(index):
        def run():
            together[index] = _train(index + 1)

        return run

    def evaluator():
        X, _ = _data(3)
        w = tg.Tensor(np.ones((1, 3)), requires_grad=True)
        while not done.is_set():
            with tg.no_grad():
                A = tg.sigmoid(w @ X)
                assert not A.requires_grad
                evaluations.append(float(A.data.mean()))

    def trainers():
        try:
            _run_threads(trainer(0), trainer(1))
        finally:
            done.set()

    _run_threads(trainers, evaluator)
    assert evaluations, "the evaluator never ran"
    for (w_alone, b_alone), (w_together, b_together) in zip(alone, together):
        np.testing.assert_array_equal(w_together, w_alone)
        np.testing.assert_array_equal(b_together, b_alone)
    assert tg.is_grad_enabled()


def test_overlapping_no_grad_blocks_in_two_threads_leave_grad_mode_on():
    # A enters, B enters, A exits, B exits: with one shared mode, A's exit restored "off"
    # (B's saved value) for good. Per thread, each restores its own.
    a_entered, b_entered, a_exited = threading.Event(), threading.Event(), threading.Event()
    modes = {}

    def a():
        with tg.no_grad():
            a_entered.set()
            b_entered.wait(10)
        a_exited.set()
        modes["a after"] = tg.is_grad_enabled()

    def b():
        a_entered.wait(10)
        with tg.no_grad():
            b_entered.set()
            a_exited.wait(10)
            modes["b inside"] = tg.is_grad_enabled()
        modes["b after"] = tg.is_grad_enabled()

    _run_threads(a, b)
    assert modes == {"a after": True, "b inside": False, "b after": True}
    assert tg.is_grad_enabled()


def test_one_no_grad_object_shared_by_threads_restores_each_threads_mode():
    shared = tg.no_grad()
    barrier = threading.Barrier(2)
    seen = []

    def worker():
        with shared:
            barrier.wait(10)
            seen.append(tg.is_grad_enabled())
        barrier.wait(10)
        seen.append(tg.is_grad_enabled())

    _run_threads(worker, worker)
    assert seen == [False, False, True, True]


def test_backward_in_one_thread_does_not_stop_recording_in_another(fast_thread_switching):
    # backward switches grad mode off while it runs; another thread must keep recording.
    stop = threading.Event()
    failures = []

    def backwards():
        x = tg.Tensor(np.ones(50), requires_grad=True)
        for _ in range(200):
            y = x
            for _ in range(20):
                y = tg.tanh(y * 1.01)
            y.sum().backward()
        stop.set()

    def recorder():
        x = tg.Tensor(np.ones(3), requires_grad=True)
        while not stop.is_set():
            if not (x * 2).requires_grad:
                failures.append("an op was not recorded")

    _run_threads(backwards, recorder)
    assert failures == []


def test_grad_mode_and_anomaly_mode_set_in_a_thread_stay_in_that_thread():
    seen = {}

    def worker():
        tg.set_grad_enabled(False)
        tg.set_detect_anomaly(True)
        seen["worker"] = (tg.is_grad_enabled(), tg.is_anomaly_enabled())

    _run_threads(worker)
    assert seen["worker"] == (False, True)
    assert tg.is_grad_enabled() and not tg.is_anomaly_enabled()


def test_in_place_changes_from_three_threads_are_safe_and_still_caught(fast_thread_switching):
    def changer():
        for _ in range(300):
            arrays = [tg.Tensor(np.ones(2)) for _ in range(30)]
            for t in arrays:
                t += 1  # each notes a change; dead arrays leave the table meanwhile
            x = tg.Tensor(np.ones(2), requires_grad=True)
            c = tg.Tensor(np.full(2, 3.0))
            y = x * c  # saves c
            c += 1
            with pytest.raises(RuntimeError, match="modified by an in-place operation"):
                y.sum().backward()

    _run_threads(changer, changer, changer)


def test_change_table_forgets_arrays_when_they_die():
    before = len(autograd._changes)
    tensors = [tg.Tensor(np.ones(2)) for _ in range(5000)]
    for t in tensors:
        t += 1
    assert len(autograd._changes) >= before + 5000
    del tensors, t
    assert len(autograd._changes) <= before + 1, "dead arrays stayed in the change table"


def test_an_array_dying_during_a_change_note_does_not_deadlock():
    # The collector may run inside note_inplace_change (any allocation) and free a noted
    # array kept alive only by a reference cycle; its weakref callback then re-enters the
    # change table's lock in the same thread.
    import gc

    class Holder:
        pass

    def run():
        for _ in range(50):
            holder = Holder()
            holder.itself = holder
            holder.tensor = tg.Tensor(np.ones(2))
            holder.tensor += 1  # noted: the table holds a weak reference with a callback
            del holder  # now cyclic garbage, freed by the next collection
            fresh = tg.Tensor(np.ones(2))
            fresh += 1  # allocations under the lock trigger that collection

    previous = gc.get_threshold()
    gc.set_threshold(1)
    try:
        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(timeout=30)
    finally:
        gc.set_threshold(*previous)
    assert not worker.is_alive(), "note_inplace_change deadlocked on its own lock"


def test_recording_skips_thread_local_reads_only_while_no_thread_has_grad_off():
    # record_* read the thread-local grad mode only when some thread has it off; the count of
    # such threads must follow every switch, or a no_grad thread would record (count too low).
    from tinygrad_dl import autograd

    before = autograd._Anywhere.grad_off, autograd._Anywhere.anomaly_on
    inside, release = threading.Event(), threading.Event()
    seen = {}

    def quiet():
        x = tg.Tensor(np.ones(2), requires_grad=True)
        with tg.no_grad():
            with tg.enable_grad():
                seen["enable_grad inside no_grad"] = (x * 2.0).requires_grad
            with tg.set_detect_anomaly(True):
                seen["no_grad"] = (x * 2.0).requires_grad, (x + x).requires_grad
                inside.set()
                release.wait(10)

    thread = threading.Thread(target=quiet)
    thread.start()
    inside.wait(10)
    counts_inside = autograd._Anywhere.grad_off, autograd._Anywhere.anomaly_on
    x = tg.Tensor(np.ones(2), requires_grad=True)
    recorded_here = (x * 2.0).requires_grad and (x + x).requires_grad
    release.set()
    thread.join(10)
    assert seen == {"enable_grad inside no_grad": True, "no_grad": (False, False)}
    assert counts_inside == (before[0] + 1, before[1] + 1)
    assert recorded_here and not tg.is_anomaly_enabled()
    assert (autograd._Anywhere.grad_off, autograd._Anywhere.anomaly_on) == before
