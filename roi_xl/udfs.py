"""The UDF module xlwings settings name (``UDF Modules: roi_xl.udfs``), kept stable: the
business functions are defined in ``roi_xl.excel.udfs`` and handed on here."""

from roi_xl.excel.udfs import *  # noqa: F403
from roi_xl.excel.udfs import __all__  # noqa: F401
