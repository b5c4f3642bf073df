from aigc_course.timeline import MILESTONES, milestones, plot_timeline


def test_milestones_are_chronological_and_start_before_gans():
    rows = milestones()
    years = [m.year for m in rows]
    assert years == sorted(years)
    assert years[0] < 2014 and rows[0].model.startswith("Boltzmann")


def test_key_citations_have_correct_authors_and_years():
    by_model = {m.model: m for m in MILESTONES}
    assert by_model["Variational autoencoder (VAE)"].year == 2013
    assert "Kingma & Welling" in by_model["Variational autoencoder (VAE)"].citation
    assert "ICLR 2014" in by_model["Variational autoencoder (VAE)"].citation
    gan = by_model["Generative adversarial network (GAN)"]
    assert gan.year == 2014 and "Goodfellow" in gan.citation
    assert "Ho, Jain & Abbeel" in by_model["DDPM (diffusion)"].citation
    assert "Vaswani" in by_model["Transformer"].citation


def test_every_milestone_has_a_citation_and_modality():
    for m in MILESTONES:
        assert m.citation and m.modality and 1980 < m.year < 2030


def test_filter_by_modality_and_plot():
    import matplotlib
    matplotlib.use("Agg")
    assert all("audio" in m.modality for m in milestones("audio"))
    ax = plot_timeline()
    assert ax.get_title() and ax.get_xlabel()
