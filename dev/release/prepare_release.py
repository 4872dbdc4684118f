"""
Prepare a release: tag the current commit and build the distribution files.

The package version comes from git tags (setuptools_scm), so a release is a
tag. This script

1. refuses to go on if the working tree has uncommitted changes (modified,
   staged or untracked files), if the tag exists already, or if the version
   is not a valid version newer than the latest tag;
2. creates the annotated tag ``VERSION`` on the current commit;
3. builds the source distribution and the wheel with ``python -m build``
   into an emptied ``dist/`` folder, and checks that both carry ``VERSION``
   (the tag is deleted again if the build fails).

Usage (needs ``pip install build``)::

    python dev/release/prepare_release.py VERSION [--dry-run]

Nothing is pushed or uploaded: the script prints the commands for that.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parents[2]


class ReleaseError(Exception):
    """A check failed: the release cannot be prepared."""


def git(*args: str) -> str:
    """Run git in the repository and return its output."""
    result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise ReleaseError(f"'git {' '.join(args)}' failed: {result.stderr.strip()}")
    return result.stdout.strip()


def check_clean() -> None:
    """Refuse uncommitted changes: the tag has to describe exactly what is built."""
    status = git("status", "--porcelain", "--untracked-files=normal")
    if status:
        raise ReleaseError(
            "The working tree has uncommitted changes; commit or remove them first:\n"
            + status)


def parse_version(text: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        raise ReleaseError(f"'{text}' is not a valid version (PEP 440), e.g. 0.4.0") from None


def check_version(version: Version, tag: str) -> None:
    """The tag must be new, and the version newer than every version tag."""
    tags = git("tag", "--list").split()
    if tag in tags:
        raise ReleaseError(f"The tag '{tag}' exists already.")
    older = []
    for existing in tags:
        try:
            older.append(Version(existing))
        except InvalidVersion:
            continue
    if older and version <= max(older):
        raise ReleaseError(f"Version {version} is not newer than the latest tag {max(older)}.")


def build(version: Version) -> list[Path]:
    """Build sdist and wheel into an empty ``dist/``; return the files."""
    dist = ROOT / "dist"
    if dist.exists():
        shutil.rmtree(dist)
    result = subprocess.run([sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)],
                            cwd=ROOT)
    if result.returncode != 0:
        raise ReleaseError("'python -m build' failed (is the 'build' package installed?).")
    files = sorted(dist.iterdir())
    sdists = [f for f in files if f.name.endswith(".tar.gz")]
    wheels = [f for f in files if f.suffix == ".whl"]
    if len(sdists) != 1 or len(wheels) != 1:
        raise ReleaseError(f"Expected one sdist and one wheel in {dist}, found: "
                           f"{', '.join(f.name for f in files)}")
    for path in sdists + wheels:
        if f"-{version}" not in path.name:
            raise ReleaseError(
                f"{path.name} does not carry version {version}: setuptools_scm did not "
                f"pick up the tag (is setuptools_scm installed in the build environment?)")
    return sdists + wheels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("version", help="the version to release, e.g. 0.4.0 (also the tag name)")
    parser.add_argument("--dry-run", action="store_true",
                        help="only run the checks; create no tag and build nothing")
    args = parser.parse_args(argv)
    tag = args.version
    try:
        version = parse_version(args.version)
        check_clean()
        check_version(version, tag)
        if args.dry_run:
            print(f"Checks passed: ready to tag {tag} and build.")
            return 0
        git("tag", "-a", tag, "-m", f"brian2tools {version}")
        print(f"Created the tag {tag} on {git('rev-parse', '--short', 'HEAD')}.")
        try:
            files = build(version)
        except ReleaseError:
            git("tag", "-d", tag)
            print(f"Deleted the tag {tag} again.", file=sys.stderr)
            raise
    except ReleaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("Built:\n" + "\n".join(f"  {path.relative_to(ROOT)}" for path in files))
    print("\nNext steps:\n"
          f"  git push origin {tag}\n"
          "  python -m twine check dist/*\n"
          "  python -m twine upload dist/*")
    return 0


if __name__ == "__main__":
    sys.exit(main())
