import multiprocessing

import pytest

from terminal.transactions.state import HostState


def test_trace_numbers_continue_across_instances_on_one_file(tmp_path):
    path = tmp_path / "state.json"
    assert HostState(path).next_trace() == "000001"
    assert HostState(path).next_trace() == "000002"


def test_trace_wraps_from_999999_to_000001(tmp_path):
    path = tmp_path / "state.json"
    path.write_text('{"last_trace": 999998, "batch": "000001"}')
    state = HostState(path)
    assert [state.next_trace(), state.next_trace()] == ["999999", "000001"]


def test_batch_is_persisted_and_validated(tmp_path):
    path = tmp_path / "state.json"
    HostState(path).set_batch("000007")
    assert HostState(path).batch == "000007"
    with pytest.raises(ValueError):
        HostState(path).set_batch("7")


def _take(path, count, queue):
    state = HostState(path)
    queue.put([state.next_trace() for _ in range(count)])


def test_two_processes_never_get_the_same_trace(tmp_path):
    path = tmp_path / "state.json"
    queue = multiprocessing.get_context("fork").Queue()
    workers = [multiprocessing.get_context("fork").Process(target=_take, args=(path, 50, queue))
               for _ in range(2)]
    for worker in workers:
        worker.start()
    traces = queue.get(timeout=30) + queue.get(timeout=30)
    for worker in workers:
        worker.join(timeout=30)
    assert len(set(traces)) == 100
