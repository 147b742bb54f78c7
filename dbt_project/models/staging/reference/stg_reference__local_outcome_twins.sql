with source as (
    select * from {{ ref('local_outcome_twins') }}
),

renamed as (
    select
        trim(indicator_code)::varchar as indicator_code,
        trim(local_outcome_code)::varchar as local_outcome_code,
        years_after_arrival::integer as years_after_arrival
    from source
)

select * from renamed
