{#- "How are we doing": one row per indicator and municipality (the 98) for the latest year the
    indicator has. The value as computed and as the barometer publishes it (whole units, half
    away from zero), the component rates of a gap indicator, the country, the municipality's
    comparison group (its group of lowest priority in seeds/reference/peer_groups.csv; the
    average of the other members), its rank among the municipalities with a value
    (direction-aware, 1 = best), and target, gap, status, projection and verdict. -#}
with indicators as (
    select * from {{ ref('stg_reference__indicators') }}
),

latest_years as (
    select indicator_code, max(year) as year
    from {{ ref('fct_target_gap') }}
    group by indicator_code
),

gaps as (
    select *
    from {{ ref('fct_target_gap') }}
    where (indicator_code, year) in (select indicator_code, year from latest_years)
),

statuses as (
    select indicator_code, municipality_code, year, value_rounded
    from {{ ref('int_target_statuses') }}
),

group_values as (
    select indicator_code, municipality_code, year, population_group, value
    from {{ ref('fct_indicator_values') }}
),

peer_groups as (
    -- A municipality's comparison group: the one of lowest priority it belongs to.
    select municipality_code, peer_group_code, peer_group_name_da, peer_group_name_en
    from (
        select
            *,
            row_number() over (partition by municipality_code order by priority, peer_group_code)
                as preference
        from {{ ref('stg_reference__peer_groups') }}
    ) as memberships
    where preference = 1
),

peer_averages as (
    -- The average of the group's other members, so a municipality is not compared with itself.
    select
        own.municipality_code,
        own.peer_group_code,
        own.peer_group_name_da,
        own.peer_group_name_en,
        gaps.indicator_code,
        avg(gaps.value::decimal(18, 6))::double precision as peer_group_average
    from peer_groups as own
    inner join {{ ref('stg_reference__peer_groups') }} as members
        on members.peer_group_code = own.peer_group_code
        and members.municipality_code <> own.municipality_code
    inner join gaps on gaps.municipality_code = members.municipality_code
    group by
        own.municipality_code,
        own.peer_group_code,
        own.peer_group_name_da,
        own.peer_group_name_en,
        gaps.indicator_code
),

ranked as (
    select
        indicator_code,
        municipality_code,
        case when value is not null then
            rank() over (
                partition by indicator_code, value is null
                order by case when direction = 'higher_is_better' then -value else value end
            )
        end as rank_among_municipalities,
        count(value) over (partition by indicator_code) as municipalities_ranked
    from gaps
    inner join indicators using (indicator_code)
)

select
    gaps.indicator_code,
    indicators.area_code,
    indicators.indicator_name_da,
    indicators.indicator_name_en,
    indicators.unit,
    indicators.direction,
    gaps.municipality_code,
    municipalities.municipality_name,
    gaps.year,
    gaps.value,
    statuses.value_rounded,
    comparison.value as comparison_value,
    indicators.component_indicator_code,
    component_main.value as component_main_value,
    component_comparison.value as component_comparison_value,
    gaps.national_value,
    peer_averages.peer_group_code,
    peer_averages.peer_group_name_da,
    peer_averages.peer_group_name_en,
    peer_averages.peer_group_average,
    ranked.rank_among_municipalities::integer as rank_among_municipalities,
    ranked.municipalities_ranked::integer as municipalities_ranked,
    gaps.target_value,
    gaps.target_year,
    gaps.target_kind,
    gaps.gap_to_target,
    gaps.status,
    gaps.projected_year_reaching_target,
    gaps.trend_per_year,
    gaps.baseline_year,
    gaps.baseline_value,
    gaps.development
from gaps
inner join indicators using (indicator_code)
inner join {{ ref('stg_reference__municipalities') }} as municipalities using (municipality_code)
inner join statuses using (indicator_code, municipality_code, year)
inner join ranked using (indicator_code, municipality_code)
left join peer_averages using (indicator_code, municipality_code)
left join group_values as comparison
    on comparison.indicator_code = gaps.indicator_code
    and comparison.municipality_code = gaps.municipality_code
    and comparison.year = gaps.year
    and comparison.population_group = indicators.comparison_population_group
left join indicators as component
    on component.indicator_code = indicators.component_indicator_code
left join group_values as component_main
    on component_main.indicator_code = component.indicator_code
    and component_main.municipality_code = gaps.municipality_code
    and component_main.year = gaps.year
    and component_main.population_group = component.main_population_group
left join group_values as component_comparison
    on component_comparison.indicator_code = component.indicator_code
    and component_comparison.municipality_code = gaps.municipality_code
    and component_comparison.year = gaps.year
    and component_comparison.population_group = component.comparison_population_group
