"""Runtime: device and precision, the processes of a run, threads, offline mode, the doctor."""
