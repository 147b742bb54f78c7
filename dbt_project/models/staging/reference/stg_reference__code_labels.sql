with source as (
    select * from {{ ref('code_labels') }}
),

renamed as (
    select
        trim(dimension)::varchar as dimension,
        trim(code)::varchar as code,
        label_da::varchar as label_da,
        label_en::varchar as label_en,
        nullif(trim(description), '')::varchar as description,
        sort_order::integer as sort_order
    from source
)

select * from renamed
