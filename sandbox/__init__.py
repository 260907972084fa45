"""Local stand-ins for the Dataverse Web API and the Finance & Operations OData API.

Development, demo, test and benchmark use only; never deployed. One process serves one
system (`python -m sandbox dataverse|finops ...`, see sandbox/cli.py). The pieces:

    cli.py                 the command line (`__main__.py` runs it)
    entities.py            entity definitions (sandbox/entities/<system>/*.json) and value checks
    storage.py             SQLite storage: one table per entity set, change tracking, key lookups
    messages.py            requests, responses and errors as the services see them
    odata_filter.py        $filter -> parameterised SQLite, through odata-query's parser and visitor
    odata_query.py         the other query options, key predicates, paging tokens
    dataverse_app.py       Dataverse routes and reads, change tracking
    dataverse_writes.py    Dataverse writes: create, upsert, bulk messages, @odata.bind
    dataverse_metadata.py  EntityDefinitions, WhoAmI, the bulk-message rows clients look up
    dataverse_metadata_filter.py  $filter over metadata (comparisons with and / or / not)
    dataverse_csdl.py      the CSDL $metadata document, generated from the entity definitions
    dataverse_tls.py       an HTTPS front on loopback for clients that refuse plain http
    dataverse_errors.py    Dataverse error codes and messages
    finops_app.py          F&O routes: companies, composite keys, enums, writes
    batch.py               multipart $batch: parse, execute with change sets, compose
    protection.py          service protection (429 + Retry-After), faults, knobs, stats
    server.py              the Starlette app: auth, protection, latency and cost, routes
    admin.py               /_sandbox endpoints: reset, seed, dump, stats, config
    process.py             start and stop a sandbox process (tests, demo, benchmarks)
    datasets/              deterministic generated sample data (prospect_to_cash.py)
"""
