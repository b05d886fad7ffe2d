# SPDX-License-Identifier: GPL-3.0-or-later
"""Opening a session: a num_locks change without a renumber is found and explained (issue 14 item 12)."""
from __future__ import annotations

from ansible_collections.libpod.engine.plugins.module_utils.engine.ops.session import open_runtime
from ansible_collections.libpod.engine.plugins.module_utils.engine.runtime import OpenOptions


def _open(tmp_path, num_locks: int, **kw):
    conf = tmp_path / "containers.conf"
    conf.write_text('[engine]\nstatic_dir = "%s"\ntmp_dir = "%s"\nnum_locks = %d\n'
                    % (tmp_path / "static", tmp_path / "tmp", num_locks))
    return open_runtime(OpenOptions(env={"LIBPOD_ENGINE_CONF": str(conf)}, **kw))


def test_num_locks_lowered_below_held_numbers_is_explained(tmp_path):
    rt = _open(tmp_path, 64)
    try:
        for i in range(10):
            rt.locks.allocate("volume", "%064x" % i)
        assert not [w for w in rt.warnings if "num_locks" in w]
    finally:
        rt.shutdown()
    rt = _open(tmp_path, 4)
    try:
        found = [w for w in rt.warnings if "num_locks" in w]
        assert len(found) == 1, rt.warnings
        assert "num_locks = 4" in found[0] and "up to 9" in found[0] and "renumber: true" in found[0]
        assert str(tmp_path / "containers.conf") in found[0]
    finally:
        rt.shutdown()
    rt = _open(tmp_path, 16)  # large enough again: nothing to say
    try:
        assert not [w for w in rt.warnings if "num_locks" in w]
    finally:
        rt.shutdown()


def test_conmon_probe_is_kept_across_a_different_path(tmp_path, monkeypatch):
    """conmon's exit command runs with another $PATH than a task: a conmon found among the
    configured paths does not depend on $PATH, so neither may re-probe it (issue 20)."""
    import shutil

    from ansible_collections.libpod.engine.plugins.module_utils.engine.oci import driver

    conmon = shutil.which("conmon")
    probes = []
    real = driver.find_conmon
    monkeypatch.setattr(driver, "find_conmon", lambda paths: probes.append(list(paths)) or real(paths))
    conf = tmp_path / "containers.conf"
    conf.write_text('[engine]\nstatic_dir = "%s"\ntmp_dir = "%s"\nconmon_path = ["%s"]\n'
                    % (tmp_path / "static", tmp_path / "tmp", conmon))
    for path in ("/usr/bin:/bin", "/usr/local/bin:/usr/bin:/bin", "/usr/bin:/bin"):
        monkeypatch.setenv("PATH", path)
        open_runtime(OpenOptions(env={"LIBPOD_ENGINE_CONF": str(conf)})).shutdown()
    assert len(probes) == 1
    # found on $PATH only (no configured candidate works): a different $PATH probes again
    conf.write_text('[engine]\nstatic_dir = "%s"\ntmp_dir = "%s"\nconmon_path = ["/nonexistent/conmon"]\n'
                    % (tmp_path / "static", tmp_path / "tmp"))
    for path in ("/usr/bin:/bin", "/usr/bin:/bin", "/bin:/usr/bin"):
        monkeypatch.setenv("PATH", path)
        open_runtime(OpenOptions(env={"LIBPOD_ENGINE_CONF": str(conf)})).shutdown()
    assert len(probes) == 3
