"""The dashboard's panes, each usable (and tested) on its own."""
