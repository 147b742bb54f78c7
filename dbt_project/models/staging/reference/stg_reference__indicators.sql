with source as (
    select * from {{ ref('indicators') }}
),

renamed as (
    select
        trim(indicator_code)::varchar as indicator_code,
        trim(area_code)::varchar as area_code,
        area_name_da::varchar as area_name_da,
        area_name_en::varchar as area_name_en,
        indicator_name_da::varchar as indicator_name_da,
        indicator_name_en::varchar as indicator_name_en,
        unit::varchar as unit,
        direction::varchar as direction,
        population_definition::varchar as population_definition,
        main_population_group::varchar as main_population_group,
        nullif(trim(comparison_population_group), '')::varchar as comparison_population_group,
        baseline_year::integer as baseline_year,
        -- A gap indicator's component rates are the two groups of this indicator.
        nullif(trim(component_indicator_code), '')::varchar as component_indicator_code
    from source
)

select * from renamed
