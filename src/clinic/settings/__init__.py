"""Settings: ``base`` plus thin ``local``, ``production`` and ``test`` overrides."""
