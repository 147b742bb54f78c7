with source as (
    select * from {{ ref('targets') }}
),

renamed as (
    select
        trim(indicator_code)::varchar as indicator_code,
        -- A blank municipality means the target applies to every municipality.
        lpad(nullif(trim(municipality_code), ''), 3, '0')::varchar as municipality_code,
        target_value::double precision as target_value,
        target_year::integer as target_year,
        target_kind::varchar as target_kind,
        source::varchar as target_source
    from source
)

select * from renamed
