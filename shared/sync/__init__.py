"""The work of a run, step by step, as the activities call it.

    begin_run        snapshot the project, check it, mark the run Running, return the plan
    extract_chunk    read source pages and stage them, keeping their business keys by hash bucket
    resolve_bucket   decide which staged records of one bucket a newer one with the same key supersedes
    load_page        map one staged page, write it to the target in bulk, keep error records
    finish_run       remember where the finished tasks' incremental reads resume, record the
                     outcome, free the run lock, drop the staged pages
"""
