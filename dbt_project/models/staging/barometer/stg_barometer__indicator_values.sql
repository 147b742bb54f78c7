{#- Every loaded barometer value, typed: one row per export row and load. Which loads are
    current is decided downstream (int_indicator_values_current). -#}
with source as (
    select * from {{ source('barometer', 'indicator_values') }}
),

renamed as (
    select
        indicator_code::varchar as indicator_code,
        municipality_code::varchar as municipality_code,
        year::integer as year,
        population_group::varchar as population_group,
        value::double precision as value,
        is_suppressed::boolean as is_suppressed,
        suppression_marker::varchar as suppression_marker,
        unit::varchar as unit,
        load_id::varchar as source_load_id,
        source_file::varchar as source_file,
        source_line::integer as source_line
    from source
)

select * from renamed
