"""Reading the lake from a job: a lake URI is file:///folder/path (the local
lake) or webhdfs://[user@]namenode:9870/path (HDFS over WebHDFS REST), as
`{{ conn.lake.uri }}` renders it. Writing goes through dagctl's hdfs_put."""

import json
import os
import urllib.error
import urllib.parse
import urllib.request


def _split(uri):
    parts = urllib.parse.urlsplit(uri)
    if parts.scheme == "file":
        return "file", parts.path, None, None
    if parts.scheme in ("webhdfs", "http", "https"):
        scheme = "https" if parts.scheme == "https" else "http"
        base = f"{scheme}://{parts.hostname}:{parts.port or 9870}/webhdfs/v1"
        return "webhdfs", parts.path, base, parts.username
    raise ValueError(f"lake URI '{uri}' is neither file:// nor webhdfs://")


def _rest(base, path, op, user):
    query = {"op": op}
    if user:
        query["user.name"] = user
    return f"{base}{urllib.parse.quote(path)}?{urllib.parse.urlencode(query)}"


def join(uri, *parts):
    return "/".join([uri.rstrip("/")] + [p.strip("/") for p in parts])


def read_bytes(uri):
    kind, path, base, user = _split(uri)
    if kind == "file":
        with open(path, "rb") as f:
            return f.read()
    with urllib.request.urlopen(_rest(base, path, "OPEN", user)) as res:  # follows the datanode redirect
        return res.read()


def read_text(uri):
    return read_bytes(uri).decode("utf-8")


def list_files(uri):
    """Every file under the folder `uri`, recursively, as lake URIs (sorted);
    [] when the folder does not exist."""
    kind, path, base, user = _split(uri)
    out = []
    if kind == "file":
        for root, _, names in os.walk(path):
            out += [join(uri, os.path.relpath(os.path.join(root, n), path)) for n in names]
        return sorted(out)
    try:
        with urllib.request.urlopen(_rest(base, path, "LISTSTATUS", user)) as res:
            statuses = json.load(res)["FileStatuses"]["FileStatus"]
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return []
        raise
    for st in statuses:
        child = join(uri, st["pathSuffix"])
        out += list_files(child) if st["type"] == "DIRECTORY" else [child]
    return sorted(out)
