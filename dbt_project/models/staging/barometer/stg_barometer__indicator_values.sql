with source as (
    select * from {{ source('barometer', 'indicator_values') }}
),

current_loads as (
    -- Every export file is a full snapshot of what it covers: only its current load counts,
    -- and only while the file is still among the sources.
    select load_id from {{ source('barometer', 'current_loads') }}
),

renamed as (
    select
        source.indicator_code::varchar as indicator_code,
        source.municipality_code::varchar as municipality_code,
        source.year::integer as year,
        source.population_group::varchar as population_group,
        source.value::double as value,
        source.is_suppressed::boolean as is_suppressed,
        source.suppression_marker::varchar as suppression_marker,
        source.unit::varchar as unit,
        source.load_id::varchar as source_load_id,
        source.source_file::varchar as source_file,
        source.source_line::integer as source_line
    from source
    inner join current_loads using (load_id)
)

select * from renamed
