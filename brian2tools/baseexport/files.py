"""
Writing exported files atomically.

A renderer produces the complete text first; the file is then written to a
temporary file in the destination folder and renamed over the destination
with `os.replace`, so that a failed export never leaves a half-written file
behind and readers never see a partial file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable

__all__ = ["write_text_atomic"]


def _default_file_mode() -> int:
    """The mode `open` would give a new file (``0o666`` minus the umask)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_text_atomic(path: str | os.PathLike, text: str | Iterable[str],
                      encoding: str = "utf-8") -> str:
    """
    Write ``text`` to ``path`` atomically.

    The text goes to a temporary file in the same folder as ``path`` (so that
    the final rename does not cross file systems), which then replaces
    ``path`` in one step. An existing file keeps its permissions; a new file
    gets the usual permissions of the user's umask. If anything fails, the
    temporary file is removed and ``path`` is left as it was.

    Parameters
    ----------
    path : str or os.PathLike
        The destination file. Its folder must exist.
    text : str or iterable of str
        The complete content of the file, or its pieces in order (written
        one after the other, so a large file need not be in memory at once).
    encoding : str, optional
        The text encoding, ``'utf-8'`` by default.

    Returns
    -------
    path : str
        The absolute path of the written file.

    Raises
    ------
    FileNotFoundError
        If the destination folder does not exist.
    TypeError
        If ``text`` is neither a string nor an iterable of strings.

    Examples
    --------
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> written = write_text_atomic(os.path.join(folder, 'model.md'), '# Model\\n')
    >>> open(written).read()
    '# Model\\n'
    """
    if isinstance(text, str):
        chunks: Iterable[str] = (text,)
    elif isinstance(text, (bytes, bytearray)) or not isinstance(text, Iterable):
        raise TypeError(
            f"write_text_atomic needs the file content as a str, got {type(text).__name__}."
        )
    else:
        chunks = text
    path = os.path.abspath(os.fspath(path))
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"Cannot write '{path}': the folder '{folder}' does not exist.")
    if os.path.exists(path):
        mode = os.stat(path).st_mode & 0o7777
    else:
        mode = _default_file_mode()
    handle, temporary = tempfile.mkstemp(
        dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "w", encoding=encoding, newline="") as stream:
            for chunk in chunks:
                if not isinstance(chunk, str):
                    raise TypeError("write_text_atomic needs the pieces of the file as str, "
                                    f"got {type(chunk).__name__}.")
                stream.write(chunk)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.remove(temporary)
        except OSError:
            pass
        raise
    return path
