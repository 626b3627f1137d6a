// A photo in the search bar: its thumbnail and name, a "not like this" toggle and a remove button.
#pragma once

#include <QFrame>

#include "ui/search_request.h"

class QToolButton;

namespace pictor::ui {

class PhotoChip : public QFrame {
    Q_OBJECT
public:
    PhotoChip(PhotoTerm term, QWidget* parent = nullptr);
    const PhotoTerm& term() const { return term_; }
    void setNegated(bool negated);

signals:
    void changed();
    void removeClicked();

private:
    PhotoTerm term_;
    QToolButton* negate_;
};

} // namespace pictor::ui
