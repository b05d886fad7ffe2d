# SPDX-License-Identifier: GPL-3.0-or-later
"""Reconcile one image (the ``image`` module), or prune unused ones.

States:

* ``present``: the image ``name`` exists. With ``path`` it is imported from that file (an
  archive, an OCI layout dir, or a plain rootfs tarball with ``change``) and ``name`` points to
  it; the same content imported again is no change (compared by image ID for archives, by
  layer diff_id and config for a rootfs tarball). Without ``path`` it is pulled per ``pull``.
* ``tagged``: the local image ``name`` gets the names in ``tags`` (nothing is pulled).
* ``absent``: as ``podman rmi``: a name among several is only untagged; else the image is
  removed, refused while containers use it unless ``force`` (which removes them first).
* ``saved``: the image is written to ``save_path`` as ``format``; an archive that already
  holds the image under the same names is no change.
* ``prune`` (a task of its own, without ``name``): removes unused images.

Every change emits an image event (pull, import, tag, untag, remove, prune, save).
Check mode computes the same plan and stops before the first mutation.
"""
from __future__ import annotations

import os
import time
from typing import Any, Dict, List, Mapping, Optional

from ..engine.base.errors import EngineError, InvalidArg, NoSuchImage
from ..engine.image import archive, importer
from ..engine.image import prune as pruner
from ..engine.image.store import PULL_POLICIES, Image, normalize_name
from ..engine.objects import image as image_ops
from ..engine.objects.imagepull import pull as pull_image
from .result import Result, human_size, pull_summary, short

STATES = ("present", "absent", "tagged", "saved")


def inspect_image(rt, img: Image) -> Dict[str, Any]:
    """``podman image inspect`` keys plus the History count and the containers that use the image."""
    out = rt.images.inspect(img)
    history = img.config.get("history") or []
    out["History"] = history
    out["HistoryCount"] = len(history)
    out["Containers"] = [name for _cid, name in image_ops.users(rt, img.id)]
    return out


def _describe(img: Image) -> str:
    return "%s, digest %s, %s" % (short(img.id), img.digest, human_size(img.size))


def _names_of(img: Image) -> str:
    return ", ".join(img.names) or "<none>"


# ------------------------------------------------------------------------------------------
def reconcile_image(rt, params: Mapping[str, Any], check_mode: bool = False) -> Result:
    res = Result(kind="image")
    try:
        _reconcile(rt, params, check_mode, res)
    except EngineError as err:
        err.actions = list(res.actions)
        raise
    return res


def _note(res: Result, why: str) -> None:
    """Why nothing was done (an action that is not a change)."""
    res.actions.append(why)


def _reconcile(rt, params: Mapping[str, Any], check_mode: bool, res: Result) -> None:
    state = params.get("state") or "present"
    if state not in STATES:
        raise InvalidArg("image parameter state must be one of %s" % ", ".join(STATES))
    if params.get("prune"):
        _prune(rt, params, check_mode, res)
        return
    name = params.get("name")
    if not name:
        raise InvalidArg("image parameter name is required (unless prune is set)",
                         hint="name the image, e.g. name: localhost/demo:1")
    for key, allowed in (("path", ("present",)), ("change", ("present",)), ("save_path", ("saved",)),
                         ("tags", ("present", "tagged"))):
        if params.get(key) and state not in allowed:
            raise InvalidArg("image parameter %s applies to state %s only (state is %s)"
                             % (key, " or ".join(allowed), state), hint="remove %s or change state" % key)
    if params.get("change") and not params.get("path"):
        raise InvalidArg("image parameter change needs path (the rootfs tarball to import)")
    if state == "absent":
        _absent(rt, name, bool(params.get("force")), check_mode, res)
        return
    if state == "saved":
        _saved(rt, name, params, check_mode, res)
        return
    if state == "tagged":
        img = rt.images.resolve(name)
        if img is None:
            raise NoSuchImage("image %s is not in the local store, so it cannot be tagged" % name,
                              hint="import or pull it first (state: present)")
        if not params.get("tags"):
            raise InvalidArg("image parameter tags is required with state: tagged",
                             hint="e.g. tags: [localhost/app:stable]")
    elif params.get("path"):
        img = _import(rt, name, params, check_mode, res)
    else:
        img = _pull(rt, name, params, check_mode, res)
    if img is not None:
        _tags(rt, img, params.get("tags") or [], check_mode, res)
        res.obj = inspect_image(rt, rt.images.get(img.id))


# -- present --------------------------------------------------------------------------------
def _import(rt, name: str, params: Mapping[str, Any], check_mode: bool, res: Result) -> Optional[Image]:
    store = rt.images
    path = params["path"]
    platform = params.get("platform")
    transport_name, sep, rest = path.partition(":")
    file_path = rest.split(":", 1)[0] if sep and transport_name in importer.FILE_TRANSPORTS else path
    if check_mode and not os.path.exists(file_path):
        # --check of a playbook whose earlier task (tar, get_url, copy) makes the file: predict, do not fail
        res.act("import %s as %s" % (path, normalize_name(name)))
        res.warnings.append("check mode: %s does not exist yet; the import is predicted from the task, "
                            "not from the file (an earlier task may create it)" % path)
        return None
    transport, ref = importer.detect(path)
    norm = normalize_name(name)
    cur = store.resolve(norm)
    if transport == importer.ROOTFS:
        plan = importer.plan_rootfs(ref, params.get("change"), platform)
        if cur is not None and importer.same_content(cur, plan):
            _note(res, "image %s (%s) already holds rootfs tarball %s (layer %s) with this config"
                  % (norm, short(cur.id), plan.path, plan.diff_id[7:19]))
            return cur
        res.before, res.after = {"id": cur.id if cur else None}, {"imported": plan.path, "layer": plan.diff_id}
        what = "rootfs tarball %s (layer %s, %s)" % (plan.path, plan.diff_id[7:19], human_size(plan.size))
        if check_mode:
            res.act("import %s as %s" % (what, norm))
            return cur
        img = image_ops.import_rootfs(rt, plan, norm)
        res.act("imported %s as %s: image %s" % (what, norm, _describe(img)))
        return img
    if params.get("change"):
        raise InvalidArg("image parameter change applies to a rootfs tarball, but %s is an image (%s)"
                         % (path, transport), hint="remove change, or import a plain tar of a root filesystem")
    iid, _names = store.peek(ref, platform)
    if cur is not None and cur.id == iid and store.resolve(ref, platform=platform) is not None:
        _note(res, "image %s (%s) is already imported from %s" % (norm, short(iid), ref))
        return cur
    res.before, res.after = {"id": cur.id if cur else None}, {"id": iid}
    if check_mode:
        res.act("import %s as %s (image %s)" % (ref, norm, short(iid)))
        return cur
    img = image_ops.import_archive(rt, ref, norm, platform=platform)
    res.act("imported %s as %s: image %s" % (ref, norm, _describe(img)))
    return img


def _pull(rt, name: str, params: Mapping[str, Any], check_mode: bool, res: Result) -> Optional[Image]:
    store = rt.images
    policy = params.get("pull") or "missing"
    if policy not in PULL_POLICIES:
        raise InvalidArg("image parameter pull must be one of %s" % ", ".join(PULL_POLICIES))
    platform = params.get("platform")
    local = store.resolve(name)
    if policy == "never":
        if local is None:
            raise NoSuchImage("image %s is not in the local store and pull is never" % name,
                              hint="import it with path, or set pull: missing")
        _note(res, "image %s is present (%s); pull is never" % (name, short(local.id)))
        return local
    if not store.needs_pull(name, policy, platform=platform):
        have = short(local.id) if local else "-"
        _note(res, "image %s is present (%s); pull %s does not pull it" % (name, have, policy))
        return local
    if check_mode:
        res.act("pull image %s (pull: %s)" % (name, policy))
        res.before, res.after = {"id": local.id if local else None}, {"pulled": name}
        return local
    started = time.monotonic()
    img = pull_image(rt, name, platform=platform)
    if local is not None and img.id == local.id:
        _note(res, "image %s is up to date (%s)" % (name, short(img.id)))
        return img
    res.before, res.after = {"id": local.id if local else None}, {"id": img.id}
    res.act("pulled image %s: %s" % (name, pull_summary(img, time.monotonic() - started)))
    return img


def _tags(rt, img: Image, tags: List[str], check_mode: bool, res: Result) -> None:
    for tag in tags:
        norm = normalize_name(tag)
        if norm in img.names:
            continue
        other = rt.images.resolve(norm)
        moved = " (moved from %s)" % short(other.id) if other is not None and other.id != img.id else ""
        if check_mode:
            res.act("tag image %s as %s%s" % (short(img.id), norm, moved))
            continue
        image_ops.tag(rt, img, norm)
        res.act("tagged image %s as %s%s" % (short(img.id), norm, moved))


# -- absent -----------------------------------------------------------------------------------
def _absent(rt, name: str, force: bool, check_mode: bool, res: Result) -> None:
    store = rt.images
    img = store.resolve(name)
    if img is None:
        _note(res, "image %s is not present" % name)
        return
    matched = store.matched_name(name)
    if matched and len(img.names) > 1 and not force:
        res.before, res.after = {"names": img.names}, {"names": [n for n in img.names if n != matched]}
        if check_mode:
            res.act("untag %s (image %s keeps its other names)" % (matched, short(img.id)))
            return
        image_ops.untag(rt, img, matched)
        rest = ", ".join(n for n in img.names if n != matched)
        res.act("untagged %s (image %s keeps %s)" % (matched, short(img.id), rest))
        return
    users = image_ops.users(rt, img.id)
    if not force:
        image_ops.refuse_in_use(name, img, users)
    res.before, res.after = {"exists": True, "id": img.id}, {"exists": False}
    freed = pruner.freed_bytes(store, [img])
    if check_mode:
        if users:
            res.act("remove container(s) %s (using image %s)" % (", ".join(n for _i, n in users), name))
        res.act("remove image %s (%s), freeing %s" % (short(img.id), _names_of(img), human_size(freed)))
        return
    gone = image_ops.remove(rt, img, force=True)
    if gone:
        res.act("removed container(s) %s (using image %s)" % (", ".join(gone), name))
    res.act("removed image %s (%s), freed %s" % (short(img.id), _names_of(img), human_size(freed)))


# -- saved ------------------------------------------------------------------------------------
def _saved(rt, name: str, params: Mapping[str, Any], check_mode: bool, res: Result) -> None:
    store = rt.images
    path = params.get("save_path")
    if not path:
        raise InvalidArg("image parameter save_path is required with state: saved", hint="e.g. save_path: /tmp/app.tar")
    fmt = params.get("format") or "oci-archive"
    if fmt not in archive.FORMATS:
        raise InvalidArg("image parameter format must be one of %s" % ", ".join(archive.FORMATS))
    img = store.get(name)
    matched = store.matched_name(name)
    names = [matched] if matched else list(img.names)
    path = os.path.abspath(path)
    res.obj = inspect_image(rt, img)
    if os.path.isfile(path):
        try:
            have_id, have_names = store.peek("%s:%s" % (fmt, path))
        except EngineError:
            have_id, have_names = "", []
        if have_id == img.id and sorted(have_names) == sorted(names):
            _note(res, "%s already holds image %s (%s) as %s" % (path, short(img.id), ", ".join(names), fmt))
            res.extra["saved"] = {"path": path, "format": fmt, "size": os.path.getsize(path)}
            return
    res.before, res.after = {"save_path": path if os.path.exists(path) else None}, {"save_path": path, "id": img.id}
    archive.layer_splits(store, img)  # refuses (also in check mode) an image that cannot be saved
    if check_mode:
        res.act("save image %s (%s) to %s as %s" % (short(img.id), ", ".join(names) or "<none>", path, fmt))
        return
    saved = image_ops.save(rt, img, path, fmt, names)
    res.act("saved image %s (%s) to %s as %s (%s)" % (short(img.id), ", ".join(names) or "<none>", path, fmt,
                                                      human_size(saved.size)))
    res.extra["saved"] = {"path": path, "format": fmt, "size": saved.size}


# -- prune ------------------------------------------------------------------------------------
def _prune(rt, params: Mapping[str, Any], check_mode: bool, res: Result) -> None:
    for key in ("name", "path", "tags", "save_path", "change"):
        if params.get(key):
            raise InvalidArg("image parameter prune is a task of its own: %s cannot be given with it" % key,
                             hint="prune in a separate task")
    if (params.get("state") or "present") != "present":
        raise InvalidArg("image parameter prune cannot be combined with state: %s" % params.get("state"))
    mode = params["prune"]
    filters = pruner.validate_filters(params.get("filters"))
    done = image_ops.prune(rt, mode, filters, check_mode=check_mode)
    res.extra["pruned"] = {"images": [img.id for img in done.removed], "bytes": done.bytes}
    if not done.removed:
        _note(res, "no %s image to prune" % ("unused" if mode == "all" else "dangling"))
        return
    verb = "remove" if check_mode else "removed"
    for img in done.removed:
        res.act("%s image %s (%s)" % (verb, short(img.id), _names_of(img)))
    res.act("%s %d image(s), %s %s" % ("prune" if check_mode else "pruned", len(done.removed),
                                       "freeing" if check_mode else "freed", human_size(done.bytes)))
    res.before, res.after = {"images": [img.id for img in done.removed]}, {"images": []}
