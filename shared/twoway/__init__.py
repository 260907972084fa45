"""Two-way sync: a bidirectional task keeps its source and CDS records in step, each side edited freely.

Records pair up by identity, the CDS business key (identity.py). Each pair has a baseline
(baseline.py): what both sides held for each mapped field after the last successful sync. A run
merges each pair three ways (merge.py), field by field against the baseline, with each item of the
task compiled once into a `forward` (source -> CDS) and a `reverse` (CDS -> source) function
(mapping.py):

- a field changed on one side is copied to the other; changed on both to the same value, nothing;
  changed on both to different values, a conflict: the policy picks the winner (`sourceWins`,
  `cdsWins`), or under `manual` neither side is written and the conflict waits for a person,
  whose resolution the next run applies;
- no baseline yet (a first run, a record created on both sides with one key): differing fields
  are conflicts, equal ones are in sync; a record on one side only is created on the other;
- a record deleted on one side: `ignore` unlinks the pair for good, `propagate` deletes the other
  record, `restore` creates the deleted one again;
- no echoes by construction: a value equal to the baseline is no change, values are written only
  where they differ, and the new baseline holds exactly what both sides hold afterwards;
- a circuit breaker holds a pair written in alternating directions run after run (`is_looping`):
  a loop the baseline cannot catch, such as a system that changes what it is given.

Values compare in JSON terms and are kept in the baseline as they are, or past 1024 characters as
a hash (values.py). Everything here but the run's steps (extract.py, steps.py) is pure: no I/O.
"""
