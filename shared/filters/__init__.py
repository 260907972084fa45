"""Source filters: OData v4 `$filter` expressions, parsed once and then evaluated on records.

`parse_filter` reads an expression into a `Filter`; `Filter.matches(record)` tells whether a
record read from a source passes it, and `fields` / `paths` name the properties it refers
to. A malformed expression raises FilterSyntaxError, which says what is wrong and where
(positions count characters from 1). `filter_fields` lists the names of any text, even a
malformed one.

Grammar. Keywords and function names are lowercase, as in OData; property names keep their case.

    a or b, a and b, not a     logic; `not` binds tightest: it applies to what directly
                               follows it, so `not (a eq 1)` negates a comparison
    eq ne gt ge lt le          comparisons, looser than arithmetic; they do not chain
    x in ('a', 'b')            true when x eq one of the listed literals
    add sub, mul div mod       arithmetic on numbers (mul, div, mod bind tighter)
    ( ... )                    grouping
    name, lookup/name          a property, or one reached through navigation
    'O''Brien'                 a string; two quotes stand for one
    42 -3 1000.5 2.5M 1e3      numbers; an M, m, d, D, f, F, L or l suffix is ignored
    true false null
    2024-01-01, 2024-01-01T00:00:00Z, 2024-01-01T08:00:00.1234567+02:00    dates, datetimes
    5d1c0e3a-0000-0000-0000-000000000001                                   GUIDs
    Microsoft.Dynamics.DataEntities.NoYes'Yes'                             F&O enum members
    contains, startswith, endswith (text, text); indexof(text, text); length, tolower,
    toupper, trim (text); substring(text, start[, length]); concat(text, text);
    year, month, day (date or datetime)

Evaluation mirrors what the SQL-backed services do, and never raises on record data:

- A missing property is null, and so is a navigation through a missing or null lookup.
  `x eq null` holds when x is null, `x ne null` when it is not. A null against a value is
  false for eq and true for ne; gt, ge, lt and le with a null side are false.
- Strings compare case-insensitively (casefolded), like SQL Server's collation; so do
  contains, startswith, endswith and indexof (whose position is in the casefolded text).
- A string against a number, a boolean, a date or a datetime is read as that type, since
  blob rows carry every value as a string: a decimal number (surrounding spaces allowed),
  true/false/1/0, an ISO 8601 date or datetime. Numbers compare as decimals, floats by
  their shortest repr. A string that does not read so, or values of unrelated types,
  compare unequal: eq and the ordering comparisons are false, ne is true.
- Datetimes without an offset are UTC; fractions of a second past the microsecond are
  dropped. A date against a datetime compares the datetime's
  UTC date, and year, month and day read datetimes in UTC.
- GUIDs and enum members compare as strings (F&O returns an enum value as its member name).
- String functions give null for a non-string argument (contains, startswith and endswith
  give false); substring counts from 0 and treats a negative start as 0. Arithmetic on a
  non-number or a division by zero gives null; div is exact decimal division.
- A property used as a condition holds when its value is true, "true" or "1".
- Logic is two-valued: `not` negates whatever its operand gave, null comparisons included.
"""

from shared.filters.names import filter_fields
from shared.filters.parser import Filter, parse_filter
from shared.filters.syntax import KEYWORDS, FilterSyntaxError

__all__ = ["KEYWORDS", "Filter", "FilterSyntaxError", "filter_fields", "parse_filter"]
