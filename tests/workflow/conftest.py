from demo_workflow import demo_run  # noqa: F401  (the session's demo run, a fixture)
