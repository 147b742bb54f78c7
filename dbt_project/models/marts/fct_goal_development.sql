{#- The barometer's verdict per goal (area 1, 2, 3, 7, 8, 9), municipality and year, with the
    country's verdict for the same goal and year beside it (int_goal_developments holds the
    majority rule). -#}
with goals as (
    select * from {{ ref('int_goal_developments') }}
),

municipalities as (
    select * from {{ ref('stg_reference__municipalities') }}
),

areas as (
    select distinct area_code, area_name_da, area_name_en
    from {{ ref('stg_reference__indicators') }}
),

national as (
    select *
    from goals
    where municipality_code in (select municipality_code from municipalities where is_country)
)

select
    goals.area_code,
    areas.area_name_da,
    areas.area_name_en,
    goals.municipality_code,
    goals.year,
    make_date(goals.year, 1, 1) as year_start_date,
    goals.development,
    goals.indicators_in_goal::integer as indicators_in_goal,
    goals.indicators_with_verdict::integer as indicators_with_verdict,
    national.development as national_development
from goals
inner join municipalities using (municipality_code)
inner join areas using (area_code)
left join national using (area_code, year)
where not municipalities.is_country
