"""Runtime plumbing under the training loop: device meshes (sharding), multi-process jobs
(distributed), progress display and TensorBoard event files. Imports nothing above the core."""
