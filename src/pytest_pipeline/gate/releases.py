"""Which release (project, version) a package file is: what its name says, what its
own metadata says.

The gate vouches for one exact file, and a file's sha256 is not all of it: the same
bytes renamed ``pkg-2.0-py3-none-any.whl`` would go out as another version. So the
name must say the tested release, and a package whose name and metadata disagree is
refused wherever it is met.
"""

from __future__ import annotations

import re
from pathlib import Path

Release = tuple[str, str]
"""(project, version), both normalised: ``("my-pkg", "1.0")``."""

_WHEEL_METADATA = re.compile(r"^[^/]+\.dist-info/METADATA$")
_SDIST_PKG_INFO = re.compile(r"^[^/]+/PKG-INFO$")


def release_of(filename: str) -> Release | None:
    """(project, version) a wheel's or sdist's file name says, or None when it says neither."""
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    try:
        if filename.endswith(".whl"):
            name, version, *_ = parse_wheel_filename(filename)
        else:
            name, version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return str(name), str(version)


def same_release(published: str, tested: str) -> bool:
    """A file named ``published`` is the release the gate tested as ``tested``: the same
    name, or a name that says the same project and version (another wheel tag spelling,
    a non-normalised project name). A name that says no release must be the tested name."""
    if published == tested:
        return True
    release = release_of(published)
    return release is not None and release == release_of(tested)


def metadata_release(path: Path) -> Release | None:
    """(project, version) from a wheel's ``*.dist-info/METADATA`` or an sdist's
    ``PKG-INFO``; None when the file is neither or cannot be read as one."""
    import tarfile
    import zipfile

    try:
        if path.name.endswith(".whl"):
            text = _wheel_metadata(path)
        elif path.name.endswith((".tar.gz", ".tgz")):
            text = _sdist_pkg_info(path)
        else:
            return None
    except (OSError, zipfile.BadZipFile, tarfile.TarError, UnicodeDecodeError, EOFError):
        return None
    if text is None:
        return None
    return _release_in(text)


def mislabelled(path: Path) -> str | None:
    """Why ``path``'s name does not match its own metadata, in one line; None when it does
    (or when either says no release)."""
    named = release_of(path.name)
    inside = metadata_release(path)
    if named is None or inside is None or named == inside:
        return None
    return (
        f"{path}: its name says {named[0]} {named[1]} but its own metadata says {inside[0]} {inside[1]} "
        "(renamed after the build?); use the file under the name it was built with"
    )


def _wheel_metadata(path: Path) -> str | None:
    import zipfile

    with zipfile.ZipFile(path) as archive:
        names = sorted(n for n in archive.namelist() if _WHEEL_METADATA.match(n))
        return archive.read(names[0]).decode("utf-8") if names else None


def _sdist_pkg_info(path: Path) -> str | None:
    import tarfile

    with tarfile.open(path, "r:*") as archive:
        for member in archive:
            if member.isfile() and _SDIST_PKG_INFO.match(member.name):
                handle = archive.extractfile(member)
                return handle.read().decode("utf-8") if handle is not None else None
    return None


def _release_in(metadata: str) -> Release | None:
    from email.parser import HeaderParser

    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion, Version

    headers = HeaderParser().parsestr(metadata)
    name, version = headers.get("Name"), headers.get("Version")
    if not name or not version:
        return None
    try:
        return str(canonicalize_name(name)), str(Version(version))
    except InvalidVersion:
        return None
