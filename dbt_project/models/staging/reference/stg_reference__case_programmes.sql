with source as (
    select * from {{ ref('case_programmes') }}
),

renamed as (
    select
        trim(programme)::varchar as programme,
        programme_name_da::varchar as programme_name_da,
        programme_name_en::varchar as programme_name_en
    from source
)

select * from renamed
