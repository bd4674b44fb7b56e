"""The Gradio app: one module per tab plus the session state; no model code here (that is playerseg.compare)."""
