"""The main window: actions, controls, settings, start-up."""
