{#- Every published value of the 98 municipalities (the country is in
    fct_national_indicator_values, so a BI tool's SUM or AVG over this table never counts it
    twice), with the country's value for the same indicator, year and group beside it. -#}
with indicator_values as (
    select * from {{ ref('int_indicator_values_current') }}
),

municipalities as (
    select * from {{ ref('stg_reference__municipalities') }}
),

national as (
    select *
    from indicator_values
    where municipality_code in (select municipality_code from municipalities where is_country)
)

select
    v.indicator_code,
    v.municipality_code,
    v.year,
    make_date(v.year, 1, 1) as year_start_date,
    v.population_group,
    indicators.unit,
    v.value,
    national.value as national_value,
    v.is_suppressed,
    v.suppression_marker,
    v.year = max(v.year) over (
        partition by v.indicator_code, v.municipality_code, v.population_group
    ) as is_latest_year,
    v.source_load_id
from indicator_values as v
inner join municipalities using (municipality_code)
inner join {{ ref('stg_reference__indicators') }} as indicators using (indicator_code)
left join national using (indicator_code, year, population_group)
where not municipalities.is_country
