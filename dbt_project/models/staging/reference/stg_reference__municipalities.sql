with source as (
    select * from {{ ref('municipalities') }}
),

renamed as (
    select
        lpad(trim(municipality_code), 3, '0')::varchar as municipality_code,
        municipality_name::varchar as municipality_name,
        nullif(trim(region_code), '')::varchar as region_code,
        nullif(trim(region_name), '')::varchar as region_name,
        -- The whole country (000): a total, never a municipality to sum or rank with the others.
        is_country::boolean as is_country
    from source
)

select * from renamed
