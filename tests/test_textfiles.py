"""Files a person names are read only if regular and bounded: a pipe is refused without waiting
for a writer, a device without reading it, and a file past the bound without reading it whole."""
import errno
import os

import pytest

from l4station import textfiles


def test_a_pipe_a_device_a_folder_and_a_big_file_are_refused_with_their_reason(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)                                    # opening it would wait for a writer
    for path, reason in ((fifo, "not a regular file"), ("/dev/zero", "not a regular file"), (tmp_path, "is a directory")):
        with pytest.raises(OSError, match=reason):
            textfiles.read(path)
    big = tmp_path / "big.toml"
    with open(big, "wb") as file:
        file.truncate(textfiles.MAX_BYTES + 1)         # sparse: nothing written
    with pytest.raises(OSError) as refused:
        textfiles.read(big)
    assert refused.value.errno == errno.EFBIG and "larger than 67,108,864 bytes" in refused.value.strerror


def test_a_regular_file_reads_whole_in_its_encoding(tmp_path):
    path = tmp_path / "plan.txt"
    path.write_bytes("\ufeffa contact +0 +10 1 2 1000\n".encode("utf-8"))
    assert textfiles.read(path, encoding="utf-8-sig") == "a contact +0 +10 1 2 1000\n"
    with pytest.raises(UnicodeDecodeError):
        textfiles.read(path, encoding="ascii")
