"""The one definition and its evaluation: expression language, business functions, templates
and the engine. Nothing here imports another part of roi_xl but the shared errors."""
