"""Bad input at every door of a running hub process: no crash, no hang, a standard error answer."""
