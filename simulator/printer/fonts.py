"""Finding a font that draws Chinese, at run time.

First the Noto Sans SC that the ``pylopdf-fonts-zh-cn`` package ships (a
dependency of this project, so ``make demo`` and CI have it with no manual
step), then the system's CJK fonts (Debian's ``fonts-noto-cjk``,
``fonts-wqy-zenhei``/``microhei``, Windows' SimHei/Microsoft YaHei, macOS's
PingFang), then ``$TERMINAL_CJK_FONT``'s file first of all when it is set.
None found: :func:`find_cjk_font` returns None and the caller says so and
writes the text rendering only.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["FONT_ENV", "SYSTEM_FONTS", "find_cjk_font"]

FONT_ENV = "TERMINAL_CJK_FONT"

SYSTEM_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-zenhei/wqy-zenhei.ttc",
    "C:/Windows/Fonts/simhei.ttf",
    "C:/Windows/Fonts/msyh.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Light.ttc",
)


def find_cjk_font() -> Path | None:
    """A font file with Chinese glyphs, or None."""
    explicit = os.environ.get(FONT_ENV)
    if explicit:
        return Path(explicit) if Path(explicit).is_file() else None
    try:
        import pylopdf_fonts_zh_cn

        packaged = Path(pylopdf_fonts_zh_cn.sans_path())
        if packaged.is_file():
            return packaged
    except ImportError:
        pass
    for candidate in SYSTEM_FONTS:
        if Path(candidate).is_file():
            return Path(candidate)
    return None
