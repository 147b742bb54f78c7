{#- The barometer values in force: every export file is a full snapshot of what it covers, so
    only its current load counts, and only while the file is still among the sources. -#}
with indicator_values as (
    select * from {{ ref('stg_barometer__indicator_values') }}
),

current_loads as (
    select * from {{ ref('stg_barometer__current_loads') }}
)

select *
from indicator_values
where source_load_id in (select source_load_id from current_loads)
