"""Excel's own JavaScript custom functions: the business functions with no Python at all.

``functions.js`` carries the runtime (``functions_runtime.js``, copied as text) and each
function's formula rendered from its definition; ``functions.json`` is the metadata Excel
reads (Microsoft's custom-functions metadata schema); ``manifest.xml`` and ``taskpane.html``
make it an add-in to sideload or host. Excel prefixes the functions with the add-in's
namespace: ``=ROIXL.MISSEDCALLLOSS(...)``.
"""

from __future__ import annotations

import html
import json
import struct
import uuid
import zlib
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from roi_xl import __version__
from roi_xl.errors import InputError
from roi_xl.excel import render
from roi_xl.model.functions import FUNCTIONS, BusinessFunction

RUNTIME = Path(__file__).with_name("functions_runtime.js")
NAMESPACE = "ROIXL"
DEFAULT_URL = "https://localhost:3000"
"""Where the files are served from when sideloading (Microsoft's usual local HTTPS port)."""
ADD_IN_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "roi_xl/excel/office-js"))
"""Stable, so a new version of the manifest replaces the add-in instead of adding a second."""
ICON_SIZES = (16, 32, 64, 80)
_RUNTIME_NAMES = {"call", "number", "BUILTINS", "ARGUMENTS", "CustomFunctions", "Math"}


def _comment(text: str) -> str:
    return text.replace("*/", "* /")


def _function(function: BusinessFunction, spell: render.Speller) -> str:
    params = [spell(name) for name in function.param_names]
    docs = "".join(
        f" * @param {{any[][]}} {spell(p.name)} {_comment(p.doc)}\n" for p in function.params
    )
    return (
        f"function {render.BODY_PREFIX}{function.name}({', '.join(params)}) {{\n"
        f"  return {render.calls(function.body, spell)};\n}}\n\n"
        f"/**\n * {_comment(function.description)}\n"
        f" * @customfunction {function.name} {function.name}\n{docs}"
        f" * @returns {{any[][]}} {_comment(function.description)}\n */\n"
        f"function {function.name}({', '.join(params)}) {{\n"
        f"  return call({json.dumps(function.name)}, {render.BODY_PREFIX}{function.name},"
        f" ARGUMENTS[{json.dumps(function.name)}], [{', '.join(params)}]);\n}}\n"
        f"CustomFunctions.associate({json.dumps(function.name)}, {function.name});\n"
    )


def functions_js(functions: Mapping[str, BusinessFunction] = FUNCTIONS) -> str:
    """The runtime, the arguments' descriptions, then every function and its registration."""
    spell = render.speller(_RUNTIME_NAMES | set(functions), "js")
    arguments = {
        function.name: [
            {"function": function.name, "name": p.name, "doc": p.doc, "kind": p.kind}
            for p in function.params
        ]
        for function in functions.values()
    }
    header = (
        f"// roi_xl {__version__}: the business functions as Excel custom functions. Written by\n"
        "// `roi-xl excel setup --office-js` from the one definition of each function; to change\n"
        "// a formula, change it in roi_xl and run the setup again rather than editing this file.\n"
    )
    generated = "\n".join(_function(function, spell) for function in functions.values())
    return (
        f"{header}{RUNTIME.read_text(encoding='utf-8')}\n"
        f"// {'-' * 60} the business functions\n\n"
        f"const ARGUMENTS = {json.dumps(arguments, indent=2, ensure_ascii=False)};\n\n"
        f"{generated}"
    )


def metadata(functions: Mapping[str, BusinessFunction] = FUNCTIONS) -> dict[str, object]:
    """``functions.json``: what Excel shows in its formula autocomplete, argument by argument."""
    return {
        "allowErrorForDataTypeAny": True,
        "functions": [
            {
                "id": function.name,
                "name": function.name,
                "description": function.description,
                "parameters": [
                    {
                        "name": param.name,
                        "description": param.doc,
                        "type": "any",
                        "dimensionality": "matrix",
                    }
                    for param in function.params
                ],
                "result": {"dimensionality": "matrix"},
            }
            for function in functions.values()
        ],
    }


def functions_json(functions: Mapping[str, BusinessFunction] = FUNCTIONS) -> str:
    return json.dumps(metadata(functions), indent=2, ensure_ascii=False) + "\n"


def checked_url(url: str) -> str:
    """The base URL the add-in's files are served from: HTTPS, as Office requires."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc or parts.query or parts.fragment:
        raise InputError(
            f"--url {url!r}: give the HTTPS address the files will be served from,"
            f" e.g. {DEFAULT_URL} or https://intranet.example.com/roi_xl"
        )
    return url.rstrip("/")


def manifest_xml(base_url: str = DEFAULT_URL) -> str:
    """The add-in manifest (XML, shared runtime): custom functions plus a Home-tab button."""
    base = html.escape(checked_url(base_url), quote=True)
    icons = "".join(
        f'        <bt:Image id="Icon.{size}" DefaultValue="{base}/icon-{size}.png"/>\n'
        for size in (16, 32, 80)
    )
    icon_refs = "".join(
        f'                    <bt:Image size="{size}" resid="Icon.{size}"/>\n'
        for size in (16, 32, 80)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<OfficeApp xmlns="http://schemas.microsoft.com/office/appforoffice/1.1"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:bt="http://schemas.microsoft.com/office/officeappbasictypes/1.0"
    xmlns:ov="http://schemas.microsoft.com/office/taskpaneappversionoverrides"
    xsi:type="TaskPaneApp">
  <Id>{ADD_IN_ID}</Id>
  <Version>{_four_part(__version__)}</Version>
  <ProviderName>roi_xl</ProviderName>
  <DefaultLocale>en-US</DefaultLocale>
  <DisplayName DefaultValue="roi_xl functions"/>
  <Description
      DefaultValue="ROI functions in every cell: =ROIXL.MISSEDCALLLOSS(), =ROIXL.ROI() and more."/>
  <IconUrl DefaultValue="{base}/icon-32.png"/>
  <HighResolutionIconUrl DefaultValue="{base}/icon-64.png"/>
  <SupportUrl DefaultValue="{base}/taskpane.html"/>
  <Hosts>
    <Host Name="Workbook"/>
  </Hosts>
  <Requirements>
    <Sets DefaultMinVersion="1.1">
      <Set Name="SharedRuntime" MinVersion="1.1"/>
    </Sets>
  </Requirements>
  <DefaultSettings>
    <SourceLocation DefaultValue="{base}/taskpane.html"/>
  </DefaultSettings>
  <Permissions>ReadWriteDocument</Permissions>
  <VersionOverrides xmlns="http://schemas.microsoft.com/office/taskpaneappversionoverrides"
      xsi:type="VersionOverridesV1_0">
    <Hosts>
      <Host xsi:type="Workbook">
        <Runtimes>
          <Runtime resid="Taskpane.Url" lifetime="long"/>
        </Runtimes>
        <AllFormFactors>
          <ExtensionPoint xsi:type="CustomFunctions">
            <Script>
              <SourceLocation resid="Functions.Script.Url"/>
            </Script>
            <Page>
              <SourceLocation resid="Taskpane.Url"/>
            </Page>
            <Metadata>
              <SourceLocation resid="Functions.Metadata.Url"/>
            </Metadata>
            <Namespace resid="Functions.Namespace"/>
          </ExtensionPoint>
        </AllFormFactors>
        <DesktopFormFactor>
          <FunctionFile resid="Taskpane.Url"/>
          <ExtensionPoint xsi:type="PrimaryCommandSurface">
            <OfficeTab id="TabHome">
              <Group id="RoiXl.Group">
                <Label resid="Group.Label"/>
                <Icon>
{icon_refs}                </Icon>
                <Control xsi:type="Button" id="RoiXl.ShowTaskpane">
                  <Label resid="Button.Label"/>
                  <Supertip>
                    <Title resid="Button.Label"/>
                    <Description resid="Button.Tooltip"/>
                  </Supertip>
                  <Icon>
{icon_refs}                  </Icon>
                  <Action xsi:type="ShowTaskpane">
                    <TaskpaneId>RoiXl.Taskpane</TaskpaneId>
                    <SourceLocation resid="Taskpane.Url"/>
                  </Action>
                </Control>
              </Group>
            </OfficeTab>
          </ExtensionPoint>
        </DesktopFormFactor>
      </Host>
    </Hosts>
    <Resources>
      <bt:Images>
{icons}      </bt:Images>
      <bt:Urls>
        <bt:Url id="Functions.Script.Url" DefaultValue="{base}/functions.js"/>
        <bt:Url id="Functions.Metadata.Url" DefaultValue="{base}/functions.json"/>
        <bt:Url id="Taskpane.Url" DefaultValue="{base}/taskpane.html"/>
      </bt:Urls>
      <bt:ShortStrings>
        <bt:String id="Functions.Namespace" DefaultValue="{NAMESPACE}"/>
        <bt:String id="Group.Label" DefaultValue="roi_xl"/>
        <bt:String id="Button.Label" DefaultValue="ROI functions"/>
      </bt:ShortStrings>
      <bt:LongStrings>
        <bt:String id="Button.Tooltip" DefaultValue="The roi_xl functions and their arguments."/>
      </bt:LongStrings>
    </Resources>
  </VersionOverrides>
</OfficeApp>
"""


def _four_part(version: str) -> str:
    """Office wants a version of up to four numbers: 0.1.0 -> 0.1.0.0."""
    numbers = [part for part in version.split(".") if part.isdigit()][:4]
    return ".".join(numbers + ["0"] * (4 - len(numbers)))


def taskpane_html(functions: Mapping[str, BusinessFunction] = FUNCTIONS) -> str:
    """The shared runtime's page: loads Office.js and the functions; lists them for the user."""
    items = "\n".join(
        f"      <li><code>={NAMESPACE}.{f.name}({html.escape(', '.join(f.param_names))})</code>"
        f" {html.escape(f.description)}</li>"
        for f in functions.values()
    )
    return f"""<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <meta http-equiv="X-UA-Compatible" content="IE=Edge">
    <title>roi_xl functions</title>
    <script src="https://appsforoffice.microsoft.com/lib/1/hosted/office.js"></script>
    <script src="functions.js"></script>
    <style>body {{ font-family: "Segoe UI", sans-serif; font-size: 13px; margin: 12px; }}</style>
  </head>
  <body>
    <h1>roi_xl functions</h1>
    <p>Type any of these in a cell. Ranges spill: a column of inputs gives a column of results,
    and a single cell combines with every cell of a range. A bad cell gives #VALUE! with a
    message naming the argument; a division by zero gives #DIV/0!.</p>
    <ul>
{items}
    </ul>
  </body>
</html>
"""


def icon_png(size: int) -> bytes:
    """A plain square icon (PNG), so the manifest's icons exist wherever the files are hosted."""
    row = b"\x00" + bytes((0x21, 0x73, 0x45)) * size
    raw = row * size

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )
