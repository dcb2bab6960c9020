import json
import multiprocessing
import os
import sys
import threading
import time

import psutil
import pytest

from tests.helpers import write_fake_trainer
from vae import jobs, standby
from vae.limits import FULL_DATA_RETRAIN, QUICK_RETRAIN, RETRAIN_LABEL_WEIGHT
from vae.process import trainer_alive


@pytest.fixture
def script(tmp_path):
    return write_fake_trainer(tmp_path / "fake_train.py")


@pytest.fixture
def runs_dir(tmp_path):
    yield tmp_path / "runs"
    standby.dismiss(tmp_path / "runs")
    job = jobs.current(tmp_path / "runs")
    if job is not None and job.running and psutil.pid_exists(job.pid):
        psutil.Process(job.pid).kill()


def wait_for(predicate, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {predicate}")


def state(runs_dir):
    return jobs.current(runs_dir).status.get("state")


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"epochs": 0}, "epochs must be between 1 and 50"),
        ({"epochs": 51}, "epochs must be between 1 and 50"),
        ({"epochs": "many"}, "invalid training settings"),
        ({"kl_weight": 1e-5}, "kl_weight must be between"),
        ({"kl_weight": 11}, "kl_weight must be between"),
        ({"kl_weight": float("nan")}, "kl_weight must be between"),
        ({"subset": 10}, "subset must be between"),
        ({"labels": "false"}, "labels: true or false"),  # a string from a page would be truthy
        ({"labels": 1}, "labels: true or false"),
    ],
)
def test_limits_are_enforced_where_jobs_start(runs_dir, script, settings, message):
    with pytest.raises(jobs.JobError, match=message):
        jobs.start(runs_dir, **({"kl_weight": 1.0, "epochs": 5} | settings), script=script)
    assert jobs.current(runs_dir) is None
    assert not runs_dir.exists() or not [p for p in runs_dir.iterdir() if p.is_dir()]


def test_a_job_runs_train_with_an_argument_list_to_the_end(runs_dir, script):
    job = jobs.start(runs_dir, kl_weight=0.0784, epochs=3, subset=2000, script=script)
    assert job.running and job.run_dir.parent == runs_dir
    wait_for(lambda: state(runs_dir) == "finished")
    job = jobs.current(runs_dir)
    assert job.fraction_done == 1.0 and not job.running
    assert job.status["argv"] == ["--out", str(job.run_dir), "--epochs", "3", "--kl-weight", "0.0784", "--label-weight", "50.0", "--subset", "2000", *jobs.quick_args()]  # fmt: skip
    assert job.settings == {"kl_weight": 0.0784, "epochs": 3, "subset": 2000, "labels": True}


@pytest.mark.parametrize("subset, recipe", [(None, FULL_DATA_RETRAIN), (10_000, QUICK_RETRAIN)])
def test_a_retrain_uses_the_recipe_for_its_data(runs_dir, script, subset, recipe):
    jobs.start(runs_dir, kl_weight=1.0, epochs=10, subset=subset, script=script)
    wait_for(lambda: state(runs_dir) == "finished")
    argv = jobs.current(runs_dir).status["argv"]
    # train.py reads these flags: the app's retrain on all images, or on a subset, trains with vae.limits' recipe
    sys.path.insert(0, str(jobs.TRAIN_SCRIPT.parent))
    import train

    args = train.parse_args(argv)
    assert (args.batch_size, args.lr, args.subset) == (recipe.batch_size, recipe.lr, subset)
    assert args.label_weight == RETRAIN_LABEL_WEIGHT  # the label head, as the shipped runs train it
    assert (recipe.batch_size, recipe.lr) != (train.VAEConfig().batch_size, train.VAEConfig().lr)  # not the defaults


def test_a_second_start_is_refused_while_a_job_runs(runs_dir, script):
    first = jobs.start(runs_dir, kl_weight=1.0, epochs=50, script=script)
    wait_for(lambda: state(runs_dir) == "running")
    with pytest.raises(jobs.JobError, match="already running"):
        jobs.start(runs_dir, kl_weight=4.0, epochs=5, script=script)
    assert jobs.current(runs_dir).name == first.name
    assert jobs.cancel(runs_dir)
    wait_for(lambda: state(runs_dir) == "cancelled")
    second = jobs.start(runs_dir, kl_weight=4.0, epochs=1, script=script)  # free again
    assert second.name != first.name


def test_sessions_pressing_train_at_once_start_exactly_one_job(runs_dir, script):
    barrier, started, refused = threading.Barrier(8), [], []

    def press_train():
        barrier.wait()
        try:
            started.append(jobs.start(runs_dir, kl_weight=1.0, epochs=50, script=script))
        except jobs.JobError as err:
            refused.append(str(err))

    threads = [threading.Thread(target=press_train) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(started) == 1 and len(refused) == 7
    assert len([p for p in runs_dir.iterdir() if p.is_dir()]) == 1


def _server_presses_train(runs_dir, script, barrier, results):
    barrier.wait()
    try:
        jobs.start(runs_dir, kl_weight=1.0, epochs=50, script=script)
        results.put("started")
    except jobs.JobError:
        results.put("refused")


def test_two_server_processes_pressing_train_at_once_start_exactly_one_job(runs_dir, script):
    context = multiprocessing.get_context("fork")  # the children need jobs.start only, not a fresh TensorFlow
    barrier, results = context.Barrier(4), context.Queue()
    servers = [context.Process(target=_server_presses_train, args=(runs_dir, script, barrier, results)) for _ in range(4)]  # fmt: skip
    for server in servers:
        server.start()
    for server in servers:
        server.join(30)
    assert sorted(results.get(timeout=5) for _ in servers) == ["refused"] * 3 + ["started"]
    assert jobs.current(runs_dir).running


def test_a_restarted_server_reattaches_and_can_cancel(runs_dir, script):
    job = jobs.start(runs_dir, kl_weight=1.0, epochs=50, script=script)
    wait_for(lambda: state(runs_dir) == "running")
    jobs._children.clear()  # what a new server process knows: only the files
    again = jobs.current(runs_dir)
    assert again.running and again.pid == job.pid and again.name == job.name
    assert jobs.cancel(runs_dir)
    wait_for(lambda: state(runs_dir) == "cancelled")
    psutil.Process(job.pid).wait(10)  # reap it ourselves, as the lost Popen object would have
    assert not jobs.cancel(runs_dir)


def test_cancel_while_train_py_is_still_starting_reads_as_cancelled(runs_dir, script):
    jobs.start(runs_dir, kl_weight=1.0, epochs=50, script=script)
    assert jobs.cancel(runs_dir)  # before the script has a SIGTERM handler or a status.json
    wait_for(lambda: state(runs_dir) in ("cancelled", "failed"))
    assert state(runs_dir) == "cancelled"


def test_a_killed_job_reads_as_interrupted_and_frees_the_slot(runs_dir, script):
    job = jobs.start(runs_dir, kl_weight=1.0, epochs=50, script=script)
    wait_for(lambda: state(runs_dir) == "running")
    psutil.Process(job.pid).kill()
    wait_for(lambda: state(runs_dir) == "interrupted")
    assert "no longer running" in jobs.current(runs_dir).status["message"]
    jobs.start(runs_dir, kl_weight=1.0, epochs=1, script=script)


def test_a_job_that_dies_before_writing_status_reads_as_failed(runs_dir, script, monkeypatch):
    monkeypatch.setenv("FAKE_TRAIN_CRASH", "1")
    jobs.start(runs_dir, kl_weight=1.0, epochs=5, script=script)
    wait_for(lambda: state(runs_dir) == "failed")
    assert "train.log" in jobs.current(runs_dir).status["message"]


def test_a_garbage_job_file_means_no_job(runs_dir):
    runs_dir.mkdir()
    (runs_dir / jobs.JOB_FILE).write_text(json.dumps({"run": "x", "pid": "not a pid"}))
    assert jobs.current(runs_dir) is None
    (runs_dir / jobs.JOB_FILE).write_text("{garbage")
    assert jobs.current(runs_dir) is None


def test_a_finished_job_still_exiting_reads_as_finished_and_frees_the_slot(runs_dir, script, monkeypatch):
    monkeypatch.setenv("FAKE_TRAIN_LINGER", "5")
    first = jobs.start(runs_dir, kl_weight=1.0, epochs=1, script=script)
    wait_for(lambda: state(runs_dir) == "finished")
    assert psutil.pid_exists(first.pid)  # the process has not exited yet
    assert not jobs.current(runs_dir).running
    jobs.start(runs_dir, kl_weight=4.0, epochs=1, script=script)  # the next retrain may start at once


def test_jobs_share_xla_compilations_through_a_cache_in_runs(runs_dir, script, monkeypatch):
    monkeypatch.setenv("TF_XLA_FLAGS", "--tf_xla_auto_jit=0")
    jobs.start(runs_dir, kl_weight=1.0, epochs=1, script=script)
    wait_for(lambda: state(runs_dir) == "finished")
    flags = jobs.current(runs_dir).status["xla"].split()
    assert flags == ["--tf_xla_auto_jit=0", f"--tf_xla_persistent_cache_directory={jobs.xla_cache_dir(runs_dir)}"]
    assert jobs.xla_cache_dir(runs_dir).parent == runs_dir / jobs.XLA_CACHE  # one folder per kind of CPU


def test_new_runs_get_readable_names_and_a_number_only_when_needed(tmp_path):
    settings = {"kl_weight": 4.0, "epochs": 10, "subset": None}
    assert jobs.new_run_name(settings, tmp_path) == "kl4-e10-all"
    (tmp_path / "kl4-e10-all").mkdir()
    assert jobs.new_run_name(settings, tmp_path) == "kl4-e10-all-2"
    assert jobs.new_run_name({"kl_weight": 0.0784, "epochs": 5, "subset": 2000}, tmp_path) == "kl0.0784-e5-n2000"
    assert jobs.new_run_name(settings | {"labels": False}, tmp_path) == "kl4-e10-all-nolabels"


def test_a_retrain_without_labels_trains_a_plain_vae(runs_dir, script):
    job = jobs.start(runs_dir, kl_weight=1.0, epochs=1, subset=2000, labels=False, script=script)
    wait_for(lambda: state(runs_dir) == "finished")
    argv = jobs.current(runs_dir).status["argv"]
    assert job.run_dir.name == "kl1-e1-n2000-nolabels"
    assert argv[argv.index("--label-weight") + 1] == "0.0"


# ------------------------------------------------------------------ a train.py waiting for the next job


@pytest.fixture(autouse=True)
def waiting_trainer_allowed(monkeypatch) -> None:
    """tests/conftest.py switches the waiting train.py off for the whole suite; here it is what is tested."""
    monkeypatch.setenv("VAE_STANDBY", "1")


def prepared(runs_dir, script):
    """A waiting fake train.py, warmed up: its record."""
    assert jobs.prepare(runs_dir, script=script)
    wait_for(lambda: (standby.waiting(runs_dir) or {}).get("ready"))
    return standby.waiting(runs_dir)


def test_a_prepared_train_py_becomes_the_next_job_with_the_same_arguments_and_log(runs_dir, script):
    entry = prepared(runs_dir, script)
    assert jobs.prepare(runs_dir, script=script) and standby.waiting(runs_dir)["pid"] == entry["pid"]  # one only
    job = jobs.start(runs_dir, kl_weight=0.0784, epochs=3, subset=2000, script=script)
    assert job.pid == entry["pid"] and standby.waiting(runs_dir) is None  # no second job can be handed to it
    wait_for(lambda: state(runs_dir) == "finished")
    job = jobs.current(runs_dir)
    assert job.status["pid"] == entry["pid"]
    assert job.status["argv"] == ["--out", str(job.run_dir), "--epochs", "3", "--kl-weight", "0.0784", "--label-weight", "50.0", "--subset", "2000", *jobs.quick_args()]  # fmt: skip
    assert f"training {entry['pid']}" in (job.run_dir / "train.log").read_text()
    assert not list((runs_dir / standby.ORDER_DIR).iterdir())  # its order and waiting log are gone
    assert jobs.prepare(runs_dir, script=script) and standby.waiting(runs_dir)["pid"] != entry["pid"]  # a fresh one


def test_no_train_py_is_prepared_while_a_job_runs(runs_dir, script):
    jobs.start(runs_dir, kl_weight=1.0, epochs=50, script=script)
    wait_for(lambda: state(runs_dir) == "running")
    assert not jobs.prepare(runs_dir, script=script) and standby.waiting(runs_dir) is None


def test_a_job_handed_over_while_train_py_still_warms_up_can_be_cancelled(runs_dir, script, monkeypatch):
    monkeypatch.setenv("FAKE_TRAIN_WARM_UP", "30")
    assert jobs.prepare(runs_dir, script=script)
    job = jobs.start(runs_dir, kl_weight=1.0, epochs=50, script=script)
    assert job.status["state"] == "starting"
    assert jobs.cancel(runs_dir)
    wait_for(lambda: state(runs_dir) in ("cancelled", "failed"))
    assert state(runs_dir) == "cancelled"


def test_a_prepared_train_py_is_not_used_once_the_code_has_changed(runs_dir, script):
    entry = prepared(runs_dir, script)
    stat = script.stat()
    os.utime(script, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # an edit, or a pull, since it started
    job = jobs.start(runs_dir, kl_weight=1.0, epochs=1, script=script)
    assert job.pid != entry["pid"]
    wait_for(lambda: state(runs_dir) == "finished")
    wait_for(lambda: not trainer_alive(entry["pid"], entry["created"]))  # the stale one was stopped


def test_a_prepared_train_py_that_died_means_a_fresh_one(runs_dir, script):
    entry = prepared(runs_dir, script)
    psutil.Process(entry["pid"]).kill()
    wait_for(lambda: standby.waiting(runs_dir) is None)
    job = jobs.start(runs_dir, kl_weight=1.0, epochs=1, script=script)
    assert job.pid != entry["pid"]
    wait_for(lambda: state(runs_dir) == "finished")


def test_a_restarted_server_hands_the_job_to_the_waiting_train_py_and_can_cancel_it(runs_dir, script):
    entry = prepared(runs_dir, script)
    jobs._children.clear()  # what a new server process knows: only the files
    job = jobs.start(runs_dir, kl_weight=1.0, epochs=50, script=script)
    assert job.pid == entry["pid"]
    wait_for(lambda: state(runs_dir) == "running")
    assert jobs.cancel(runs_dir)
    wait_for(lambda: state(runs_dir) == "cancelled")


def test_an_unused_train_py_leaves_by_itself(runs_dir, script, monkeypatch):
    monkeypatch.setattr(jobs, "STANDBY_IDLE_SECONDS", 1)
    entry = prepared(runs_dir, script)
    wait_for(lambda: not trainer_alive(entry["pid"], entry["created"]))
    assert standby.waiting(runs_dir) is None and not (runs_dir / standby.STANDBY_FILE).exists()
    jobs.start(runs_dir, kl_weight=1.0, epochs=1, script=script)  # a fresh train.py, as before
    wait_for(lambda: state(runs_dir) == "finished")


def _server_prepares_and_ends(runs_dir, script, pids):
    jobs.prepare(runs_dir, script=script)
    pids.put(standby.waiting(runs_dir)["pid"])


def test_a_waiting_train_py_leaves_when_the_server_that_started_it_ends(runs_dir, script):
    context = multiprocessing.get_context("fork")
    pids = context.Queue()
    server = context.Process(target=_server_prepares_and_ends, args=(runs_dir, script, pids))
    server.start()
    server.join(30)
    pid = pids.get(timeout=5)
    wait_for(lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    assert standby.waiting(runs_dir) is None and not (runs_dir / standby.STANDBY_FILE).exists()


def test_a_server_keeps_one_train_py_waiting_at_most(tmp_path, script):
    first, second = tmp_path / "runs-a", tmp_path / "runs-b"
    try:
        entry = prepared(first, script)
        assert jobs.prepare(second, script=script)  # another folder: the first one's is stopped
        wait_for(lambda: not trainer_alive(entry["pid"], entry["created"]))
        assert standby.waiting(first) is None and standby.waiting(second) is not None
    finally:
        standby.dismiss(first)
        standby.dismiss(second)


def test_no_train_py_waits_when_switched_off(runs_dir, script, monkeypatch):
    monkeypatch.setenv(standby.SWITCH_ENV, "0")
    assert not jobs.prepare(runs_dir, script=script) and standby.waiting(runs_dir) is None
    jobs.start(runs_dir, kl_weight=1.0, epochs=1, script=script)  # a train.py started at the click, as before
    wait_for(lambda: state(runs_dir) == "finished")
