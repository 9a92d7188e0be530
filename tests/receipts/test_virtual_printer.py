"""The virtual printer interprets every command we send and reports any other."""

from __future__ import annotations

import pytest

from simulator.printer import VirtualPrinter, render_text

ESC, GS, FS = b"\x1b", b"\x1d", b"\x1c"


def test_text_split_across_reads_mid_character_and_mid_command_prints_whole():
    device = VirtualPrinter()
    stream = ESC + b"@" + FS + b"&" + "金额 RMB 12.34\n".encode("gb18030") + GS + b"V\x01"
    for at in range(len(stream)):  # one byte a read, as a slow serial line delivers it
        device.feed(stream[at : at + 1])
    assert device.unknown == []
    assert [slip.text_lines(device.dots) for slip in device.cut_slips] == [["金额 RMB 12.34"]]


def test_gb18030_four_byte_characters_print_on_a_gb18030_printer_and_are_reported_on_gbk():
    line = FS + b"&" + "𠀀㐀 ok\n".encode("gb18030") + GS + b"V\x00"
    wide = VirtualPrinter(encoding="gb18030")
    wide.feed(line)
    assert wide.cut_slips[0].text_lines(wide.dots) == ["𠀀㐀 ok"]
    narrow = VirtualPrinter(encoding="gbk")
    narrow.feed(line)
    assert narrow.unknown and "no gbk character" in narrow.unknown[0].reason


def test_without_fs_ampersand_chinese_bytes_are_code_page_characters():
    device = VirtualPrinter()
    device.feed(ESC + b"@" + "中".encode("gb18030") + b"\n" + GS + b"V\x00")
    assert "中" not in render_text(device.slips, device.dots)


@pytest.mark.parametrize(
    "command", [ESC + b"Z\x01", GS + b"(L\x02\x000", b"\x07", FS + b"p\x01\x00", ESC + b"M\x01"]
)
def test_an_unknown_or_undrawn_command_is_reported_with_its_offset(command):
    device = VirtualPrinter()
    device.feed(b"ab\n" + command)
    assert device.unknown, command
    assert device.unknown[0].offset == 3


def test_sizes_bold_and_alignment_shape_the_line():
    device = VirtualPrinter()
    device.feed(ESC + b"@" + FS + b"&" + ESC + b"a\x01" + ESC + b"E\x01" + GS + b"!\x11"
                + FS + b"!\x0c" + "签购单\n".encode("gb18030"))
    [row] = device.current_slip.rows
    assert [(g.width, g.height, g.bold) for g in row.glyphs] == [(2, 2, True)] * 3
    assert row.indent == (384 - 3 * 48) // 2


def test_esc_double_height_alone_leaves_chinese_small_as_real_printers_do():
    device = VirtualPrinter()
    device.feed(FS + b"&" + ESC + b"!\x30" + "金额A\n".encode("gb18030"))
    glyphs = device.current_slip.rows[0].glyphs
    assert [(g.char, g.width, g.height) for g in glyphs] == [
        ("金", 1, 1), ("额", 1, 1), ("A", 2, 2)]


def test_a_line_longer_than_the_paper_wraps():
    device = VirtualPrinter(dots=384)
    device.feed(b"x" * 40 + b"\n")
    assert [row.text for row in device.current_slip.rows] == ["x" * 32, "x" * 8]


def test_paper_running_out_holds_the_rest_until_loaded_unless_the_buffer_is_cleared():
    device = VirtualPrinter()
    device.load_paper(lines=2)
    device.feed(b"one\ntwo\nthree\n" + GS + b"V\x00")
    assert device.conditions.paper_out and device.held == 3  # "three", LF, cut
    assert device.slips[0].torn and not device.slips[0].cut
    device.feed(b"\x10\x04\x04")
    assert device.read_output() == bytes([0x7E])  # answered while out of paper
    device.load_paper()
    assert [s.text_lines(device.dots) for s in device.cut_slips] == [["three"]]

    cleared = VirtualPrinter()
    cleared.load_paper(lines=1)
    cleared.feed(b"one\ntwo\n" + GS + b"V\x00")
    cleared.feed(b"\x10\x14\x08\x01\x03\x14\x01\x06\x02\x08")  # DLE DC4 8: clear buffers
    cleared.load_paper()
    assert cleared.cut_slips == [] and cleared.held == 0


def test_no_answer_mode_keeps_silent_to_status_requests():
    device = VirtualPrinter()
    device.set_conditions(no_answer=True)
    device.feed(b"\x10\x04\x01\x10\x04\x02")
    assert device.read_output() == b""


def test_qr_code_prints_as_a_matrix_of_the_stored_data():
    device = VirtualPrinter()
    data = b"terminal:lookup?rrn=1"
    store = GS + b"(k" + bytes([len(data) + 3, 0]) + b"1P0" + data
    device.feed(GS + b"(k\x03\x001C\x04" + store + GS + b"(k\x03\x001Q0")
    [row] = device.current_slip.rows
    assert row.qr_data == data.decode() and row.qr_module == 4
    assert len(row.qr) == 25  # version 2: 21 bytes at level L


def test_without_a_cjk_font_the_printer_says_so_and_still_writes_the_text(tmp_path, monkeypatch):
    monkeypatch.setenv("TERMINAL_CJK_FONT", str(tmp_path / "no-such-font.ttf"))
    device = VirtualPrinter()
    device.feed(FS + b"&" + "金额 RMB 1.00\n".encode("gb18030") + GS + b"V\x00")
    paper = device.save(tmp_path, "slip")
    assert paper.png is None and "no CJK font found" in paper.problem
    assert paper.text_path.read_text("utf-8").startswith("金额 RMB 1.00")


def test_the_cjk_font_is_found_at_run_time_from_the_installed_package():
    from simulator.printer import find_cjk_font

    font = find_cjk_font()
    assert font is not None and font.is_file()
