"""Work in a second process (``sim.base.background``): the same result as here, or the work done here
when the child cannot answer; the child never outlives the block that started it."""

from __future__ import annotations

import os
import time

import pytest

from sim.base.background import Background


def test_the_work_runs_in_another_process_and_its_result_comes_back():
    with Background(os.getpid) as work:
        child = work.result()
    assert isinstance(child, int) and child != os.getpid()
    with Background(sorted, [3, 1, 2], start=False) as here:  # no process: done when asked
        assert here.result() == [1, 2, 3]
    with Background(os.getpid, start=False) as here:
        assert here.result() == os.getpid()


def test_an_error_in_the_work_is_raised_here_with_its_message():
    with Background(int, "not a number") as work, \
            pytest.raises(ValueError, match="invalid literal for int"):
        work.result()


def test_a_child_that_dies_without_an_answer_leaves_the_work_to_this_process():
    with Background(os.getpid) as work:
        work._process.kill()  # as the kernel's out-of-memory killer would
        assert work.result() == os.getpid()


def test_leaving_the_block_early_stops_the_child():
    with pytest.raises(KeyboardInterrupt), Background(time.sleep, 60) as work:
        child = work._process
        raise KeyboardInterrupt  # Ctrl-C in the parent while the child works
    assert child.returncode is not None and child.returncode < 0  # terminated, not finished


def test_work_that_cannot_be_sent_is_done_here():
    with Background(lambda: os.getpid()) as work:  # a lambda cannot be pickled
        assert work.result() == os.getpid()


@pytest.mark.parametrize("interpreter", ["no-such-python", "python\0"])
def test_when_no_second_interpreter_can_start_the_work_is_done_here(interpreter, tmp_path,
                                                                   monkeypatch):
    import sys

    monkeypatch.setattr(sys, "executable", str(tmp_path / interpreter))
    with Background(os.getpid) as work:
        assert work.result() == os.getpid()
