with indicator_values as (
    select * from {{ ref('stg_barometer__indicator_values') }}
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
