with indicator_values as (
    select * from {{ ref('int_indicator_values_current') }}
)

select
    indicator_code,
    municipality_code,
    year,
    population_group,
    value,
    is_suppressed,
    suppression_marker,
    source_load_id
from indicator_values
